"""A batch write whose answer is lost is read back, and only the unconfirmed records re-sent.

Real clients against the sandbox: its `lost_response` fault applies the request, then resets
the connection before the answer; a `reset` drops the request before it runs. Counted from
the sandbox's request log: what was sent, what was read back.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from connectors.confirm import same_value
from connectors.http import RetryPolicy
from connectors.salesforce import SalesforceConnector
from connectors.salesforce_fields import SalesforceFieldMap
from connectors.salesforce_records import AccountUpdate, TaskCreate
from connectors.zendesk import ZendeskConnector
from connectors.zendesk_records import OrgUpdate, TicketCreate
from sandbox import Sandbox
from tests.connectors.conftest import fake_salesforce, sandbox_salesforce
from tests.connectors.fake_salesforce import FakeOrg
from tests.sync.conftest import live_tickets, sandbox_zendesk

POLICY = RetryPolicy(max_attempts=3, initial_wait=0, max_wait=0, sleep=lambda _: None)
ORG_PUT = r"/organizations/update_many\.json"


@pytest.fixture
def sb() -> Iterator[Sandbox]:
    with Sandbox(accounts=12, seed=5) as box:
        yield box


@pytest.fixture
def zd(sb: Sandbox, monkeypatch: pytest.MonkeyPatch) -> ZendeskConnector:
    return sandbox_zendesk(sb, monkeypatch, POLICY)


@pytest.fixture
def sf(sb: Sandbox) -> SalesforceConnector:
    return SalesforceConnector(sandbox_salesforce(sb.base_url), policy=POLICY, bulk_threshold=None)


def _calls(sb: Sandbox, method: str, path_end: str) -> list[dict[str, Any]]:
    return [r for r in sb.requests if r["method"] == method and r["path"].endswith(path_end)]


def _org_updates(sb: Sandbox, n: int, score: float = 42.5) -> list[OrgUpdate]:
    return [
        OrgUpdate(id=oid, fields={"health_score": score, "health_status": "red"})
        for oid in sorted(sb.world.orgs)[:n]
    ]


def test_lost_answer_to_an_org_job_is_read_back_not_resent(sb, zd) -> None:
    updates = _org_updates(sb, 5)
    sb.faults.add(ORG_PUT, "lost_response", method="PUT")
    results = zd.update_organizations(updates)
    assert all(r.ok for r in results), results
    [put] = _calls(sb, "PUT", "organizations/update_many.json")
    assert put["status"] == "reset" and put["lost_response"], "the fault did hit the submission"
    assert len(_calls(sb, "GET", "organizations/show_many.json")) == 1
    assert len([w for w in sb.writes if w["kind"] == "org_fields"]) == 5, "each org written once"


def test_a_submission_that_never_ran_resends_only_the_unconfirmed_orgs(sb, zd) -> None:
    updates = _org_updates(sb, 5)
    assert all(r.ok for r in zd.update_organizations(updates[:2]))  # two already hold the values
    sb.clear_log()
    sb.faults.add(ORG_PUT, "reset", method="PUT")
    assert all(r.ok for r in zd.update_organizations(updates))
    first, second = _calls(sb, "PUT", "organizations/update_many.json")
    assert len(first["body"]["organizations"]) == 5 and not first["lost_response"]
    assert [o["id"] for o in second["body"]["organizations"]] == [u.id for u in updates[2:]]
    assert all(sb.world.orgs[u.id]["organization_fields"]["health_score"] == 42.5 for u in updates)


def test_a_failed_read_back_leaves_the_writes_retriable_and_unsent(sb, zd) -> None:
    updates = _org_updates(sb, 3)
    sb.faults.add(ORG_PUT, "lost_response", method="PUT")
    sb.faults.add(r"/organizations/show_many\.json", 500, times=10, method="GET")
    results = zd.update_organizations(updates)
    assert all(not r.ok and r.retriable for r in results)
    assert len(_calls(sb, "PUT", "organizations/update_many.json")) == 1, "never re-sent blind"


def test_orgs_an_earlier_run_may_have_written_are_read_back_first(sb, zd) -> None:
    updates = _org_updates(sb, 4)
    assert all(r.ok for r in zd.update_organizations(updates[:3]))
    sb.clear_log()
    results = zd.update_organizations(updates, maybe_sent={u.id for u in updates})
    assert all(r.ok for r in results)
    [put] = _calls(sb, "PUT", "organizations/update_many.json")
    assert [o["id"] for o in put["body"]["organizations"]] == [updates[3].id]


def test_lost_answer_to_a_bulk_tag_job_is_not_resent(sb, zd) -> None:
    tickets = live_tickets(sb, 4)
    sb.faults.add(r"/tickets/update_many\.json", "lost_response", method="PUT")
    [results] = zd.update_ticket_tag_groups([(tickets, ["health_red"], ["health_green"])])
    assert all(r.ok for r in results)
    assert len(_calls(sb, "PUT", "tickets/update_many.json")) == 1
    assert len(_calls(sb, "GET", "tickets/show_many.json")) == 1
    assert all("health_red" in sb.world.tickets.tag_list(t - 1) for t in tickets)


def test_lost_answer_from_the_tags_endpoint_is_not_resent(sb, zd) -> None:
    [ticket] = live_tickets(sb, 1)
    sb.faults.add(rf"/tickets/{ticket}/tags\.json", "lost_response", method="PUT")
    assert zd.add_ticket_tags(ticket, ["health_yellow"]).ok
    assert len(_calls(sb, "PUT", f"tickets/{ticket}/tags.json")) == 1
    sb.clear_log()
    sb.faults.add(rf"/tickets/{ticket}/tags\.json", "reset", method="DELETE")
    assert zd.remove_ticket_tags(ticket, ["health_yellow"]).ok
    assert len(_calls(sb, "DELETE", f"tickets/{ticket}/tags.json")) == 2, "never ran: re-sent"
    assert "health_yellow" not in sb.world.tickets.tag_list(ticket - 1)


def _account_updates(sb: Sandbox, n: int) -> list[AccountUpdate]:
    fields = {
        "Health_Score__c": 71.5,
        "Health_Status__c": "yellow",
        "Renewal_Risk__c": 0.25,
        "Pulsehub_Synced_At__c": "2026-11-02T12:00:00Z",
    }
    return [AccountUpdate(id=i, fields=fields) for i in sb.world.account_ids()[:n]]


def test_lost_answer_to_a_collection_patch_is_read_back_not_resent(sb, sf) -> None:
    updates = _account_updates(sb, 5)
    sb.faults.add(r"/composite/sobjects$", "lost_response", method="PATCH")
    assert all(r.ok for r in sf.update_accounts(updates))
    [patch] = _calls(sb, "PATCH", "/composite/sobjects")
    assert patch["lost_response"] and len(patch["body"]["records"]) == 5
    [query] = _calls(sb, "GET", "/query/")
    assert "WHERE Id IN" in query["query"]["q"]


def test_a_collection_patch_that_never_ran_resends_only_the_differing(sb, sf) -> None:
    updates = _account_updates(sb, 5)
    assert all(r.ok for r in sf.update_accounts(updates[:3]))
    sb.clear_log()
    sb.faults.add(r"/composite/sobjects$", 503, method="PATCH")
    assert all(r.ok for r in sf.update_accounts(updates))
    first, second = _calls(sb, "PATCH", "/composite/sobjects")
    assert len(first["body"]["records"]) == 5
    assert [r["id"] for r in second["body"]["records"]] == [u.id for u in updates[3:]]


@pytest.mark.parametrize(
    ("sent", "stored", "same"),
    [
        (71.5, 71.5, True),
        (72, "72", True),
        ("72.0", 72, True),
        (72, 72.5, False),
        ("2026-11-02T12:00:00Z", "2026-11-02T12:00:00.000+0000", True),
        ("2026-11-02T12:00:00Z", "2026-11-02T12:00:01.000+0000", False),
        ("2026-11-02", "2026-11-02", True),
        ("2026-11-02", "2026-11-03", False),
        (None, "", True),
        (None, "red", False),
        ("red", None, False),
        (True, "true", True),
        (False, True, False),
        ("red", "red", True),
        ("red", "Red", False),
        ("a\nb", "a\nb", True),
    ],
)
def test_same_value_allows_for_the_apis_spelling(sent: Any, stored: Any, same: bool) -> None:
    assert same_value(sent, stored) is same


def test_lost_answer_to_a_ticket_creation_is_looked_up_not_resent(sb, zd) -> None:
    spec = TicketCreate(subject="Escalation", body="Usage fell", external_id="esc-lost-1")
    sb.faults.add(r"/tickets\.json$", "lost_response", method="POST")
    result = zd.create_ticket(spec, idempotency_key="esc-lost-1-key")
    created = [w for w in sb.writes if w["kind"] == "ticket_created"]
    assert result.ok and [result.created_id] == [w["target_id"] for w in created]
    assert len(_calls(sb, "POST", "/tickets.json")) == 1


def test_lost_answer_to_a_task_upsert_is_read_back_by_key(policy: RetryPolicy) -> None:
    """With a Task key field, a reset after the upsert ran for one task: the read-back by
    key confirms it (with its Id) and only the other task is sent again."""
    org = FakeOrg()
    org.tables["Task"] = [
        {
            "Id": "00T1",
            "Pulsehub_Key__c": "task-1",
            "SystemModstamp": "2024-01-01T00:00:00.000+0000",
        }
    ]
    org.collection_results = [[{"id": "00T2", "success": True, "errors": [], "created": True}]]
    sent: list[dict[str, Any]] = []

    def handler(request: requests.PreparedRequest) -> Any:
        if "/composite/sobjects/Task/" in (request.url or "") and not sent:
            sent.append(json.loads(request.body or b"{}"))
            raise requests.ConnectionError("connection reset after the upsert ran")
        return org.handler(request)

    client, _ = fake_salesforce(handler)
    fields = SalesforceFieldMap(task_key_field="Pulsehub_Key__c")
    connector = SalesforceConnector(client, fields, policy=policy, bulk_threshold=None)
    tasks = [
        TaskCreate(what_id="001A", owner_id="005A", subject="Renewal at risk", key=f"task-{n}")
        for n in (1, 2)
    ]
    results = connector.create_tasks(tasks)
    assert [(r.ok, r.created_id) for r in results] == [(True, "00T1"), (True, "00T2")]
    assert len(sent[0]["records"]) == 2
    [resent] = org.collection_requests
    assert [r["Pulsehub_Key__c"] for r in resent["records"]] == ["task-2"]
    assert any("FROM Task WHERE Pulsehub_Key__c IN" in q for q in org.queries)
