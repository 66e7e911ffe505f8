"""With two helpdesk instances, escalation actions go where their records live: the
engineering ticket to the instance of the account's newest ticket (with that instance's
organization), its comments to the instance it was created in, customer-ticket tags to each
ticket's own instance; an owner task to the crm org owning the account."""

from __future__ import annotations

import datetime as dt

from escalation.actions import (
    CommentOnTicket,
    CreateEngineeringTicket,
    CreateOwnerTask,
    TagCustomerTickets,
)
from model.tables import Escalation, ExternalIdentity
from sync.escalate import EscalationSystems, helpdesk_for_account, to_requests
from tests.escalation.factories import account, ticket

SYSTEMS = EscalationSystems(
    {"crm": "salesforce", "helpdesk": "zendesk"},
    helpdesks=("zendesk", "acquired"),
    crms=("salesforce", "books"),
)


def _org(session, source: str, org_id: str, account_id: int) -> None:
    session.add(
        ExternalIdentity(
            source=source, kind="organization", external_id=org_id, account_id=account_id,
            status="linked", method="domain",
        )
    )  # fmt: skip
    session.flush()


def _engineering(account_id: int) -> CreateEngineeringTicket:
    return CreateEngineeringTicket(
        key="esc:k#1:ticket", escalation_id=None, account_id=account_id, subject="s", body="b",
        tags=["pulsehub_escalation"], priority="high", type="problem", external_id="pulsehub:k#1",
    )  # fmt: skip


def test_the_engineering_ticket_goes_to_the_instance_of_the_newest_ticket(session) -> None:
    acc = account(session)
    _org(session, "zendesk", "1", acc.id)
    _org(session, "acquired", "2", acc.id)
    ticket(session, acc, "older, first instance", days_ago=5, source="zendesk", helpdesk_id=7)
    ticket(session, acc, "newer, acquired instance", days_ago=1, source="acquired", helpdesk_id=7)
    (request,) = to_requests(session, _engineering(acc.id), None, SYSTEMS)
    assert request.system == "acquired"
    assert request.payload["organization_id"] == 2  # the acquired instance's organization

    # no ticket at all: the first instance (in configured order) holding an organization
    lone = account(session)
    _org(session, "acquired", "1", lone.id)
    assert helpdesk_for_account(session, lone.id, SYSTEMS) == "acquired"
    nowhere = account(session)
    assert helpdesk_for_account(session, nowhere.id, SYSTEMS) == "zendesk"
    # one helpdesk: always that one
    single = EscalationSystems({"helpdesk": "zendesk"})
    assert helpdesk_for_account(session, acc.id, single) == "zendesk"


def test_comments_follow_the_ticket_and_tags_go_to_each_tickets_instance(session) -> None:
    acc = account(session)
    esc = Escalation(
        dedup_key="k", account_id=acc.id, rule="r", severity="sev2", title="t",
        helpdesk_ticket_id=9, helpdesk_source="acquired",
    )  # fmt: skip
    session.add(esc)
    session.flush()
    comment = CommentOnTicket(key="esc:k#1:update-1", escalation_id=esc.id, body="x")
    (request,) = to_requests(session, comment, None, SYSTEMS)
    assert request.system == "acquired"

    ticket(session, acc, "a", source="zendesk", helpdesk_id=5)
    ticket(session, acc, "b", source="acquired", helpdesk_id=5)  # the same id, another ticket
    tags = TagCustomerTickets(key="esc:k#1:tags", account_id=acc.id, add=["sev2"])
    requests = to_requests(session, tags, None, SYSTEMS)
    assert sorted((r.system, r.key, r.payload["ticket_id"]) for r in requests) == [
        ("acquired", "esc:k#1:tags:acquired:5", 5),
        ("zendesk", "esc:k#1:tags:5", 5),  # the first instance keeps the one-helpdesk key
    ]


def test_an_owner_task_goes_to_the_crm_org_owning_the_account(session) -> None:
    acc = account(session, crm_source="books")
    task = CreateOwnerTask(
        key="esc:k#1:task", account_id=acc.id, subject="s", description="d",
        due_date=dt.date(2026, 7, 1), priority="High",
    )  # fmt: skip
    (request,) = to_requests(session, task, None, SYSTEMS)
    assert (request.system, request.payload["what_id"]) == ("books", acc.crm_id)
    primary = account(session, crm_source="salesforce")
    (request,) = to_requests(session, task.model_copy(update={"account_id": primary.id}), None, SYSTEMS)  # fmt: skip
    assert request.system == "salesforce"
