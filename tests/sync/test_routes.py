"""Routes from declared write kinds: planned kinds by entity, creations carrying their key."""

from __future__ import annotations

import pytest

from connectors.base import WriteItem, WriteKind
from model.tables import OutboxItem
from sync.routes import field_targets, write_item
from tests.sync.factories import TARGETS


def test_kinds_that_name_an_entity_are_planned_and_creations_are_not() -> None:
    declared = {
        "crm": {
            "crm_fields": WriteKind("crm_fields", 10, entity="account"),
            "crm_task": WriteKind("crm_task", 10),
        }
    }
    targets = field_targets(declared)
    assert list(targets) == ["account"] and targets["account"][0].system == "crm"
    assert targets["account"][0].entity == "account"


def test_the_shipped_writers_plan_accounts_organizations_and_ticket_tags() -> None:
    assert {e: [(t.system, t.kind.name) for t in ts] for e, ts in TARGETS.items()} == {
        "account": [("salesforce", "crm_account_fields")],
        "organization": [("zendesk", "helpdesk_org_fields")],
        "ticket": [("zendesk", "helpdesk_ticket_tags")],
    }
    assert (
        TARGETS["ticket"][0].kind.fields is None
        and "health_score" in TARGETS["account"][0].fields.fields
    )


def test_an_outbox_item_is_handed_over_with_its_key_not_in_its_payload() -> None:
    item = OutboxItem(key="esc:k#1:ticket", target_id="k#1:ticket", attempts=0, last_error=None,
                      payload={"subject": "s", "_meta": {"escalation_id": 1}})  # fmt: skip
    write = write_item(item)
    assert write.payload == {"subject": "s"} and write.key == "esc:k#1:ticket"
    assert write.idempotency_key() == "esc:k#1:ticket" and not write.maybe_sent


def test_a_creation_without_a_key_is_refused() -> None:
    with pytest.raises(ValueError, match="no key"):
        WriteItem("t1", {}).idempotency_key()
