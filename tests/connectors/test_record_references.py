"""Defect 9: ids and dates are validated at the boundary, so a bad reference is rejected
(and quarantined by sync) instead of stored."""

from __future__ import annotations

from typing import Any

import pytest

from connectors.records import validate_rows
from connectors.salesforce_records import SfAccount, SfContact, SfOpportunity, SfUser
from connectors.zendesk_records import ZdOrganization, ZdUser

MODSTAMP = "2024-01-02T03:04:05.000+0000"
GOOD_18 = "0015g00000AbCdEfGh"
GOOD_15 = "0015g00000AbCdE"
BAD_IDS = ["not-an-id", "001", "0015g00000AbCdEf", "0015g00000AbCdEfGhX", "0015g00000AbCd!",
           "0015g00000AbCdé", "0015g 0000AbCdE"]  # fmt: skip


def _opp(**over: Any) -> dict[str, Any]:
    return {"id": "0065g00000XyZaBcDe", "account_id": GOOD_18, "modstamp": MODSTAMP, **over}


def _reject(model: type, row: dict[str, Any], stream: str) -> str:
    records, rejected = validate_rows(model, [row], source="x", stream=stream, id_key="id")
    assert records == [] and len(rejected) == 1, records
    return rejected[0].reason


@pytest.mark.parametrize("good", [GOOD_18, GOOD_15])
def test_salesforce_ids_of_15_or_18_letters_and_digits_are_kept(good: str) -> None:
    records, rejected = validate_rows(
        SfOpportunity, [_opp(account_id=good)], source="salesforce", stream="o", id_key="id"
    )
    assert rejected == [] and records[0].account_id == good


@pytest.mark.parametrize("bad", BAD_IDS)
def test_an_opportunity_pointing_at_a_bad_account_id_is_rejected_with_the_reason(bad) -> None:
    reason = _reject(SfOpportunity, _opp(account_id=bad), "opportunities")
    assert "account_id" in reason and "not a Salesforce id" in reason


@pytest.mark.parametrize(
    ("model", "row", "field"),
    [
        (SfAccount, {"id": GOOD_18, "name": "A", "owner_id": "me", "modstamp": MODSTAMP}, "owner_id"),
        (SfAccount, {"id": GOOD_18, "name": "A", "parent_id": "x" * 20, "modstamp": MODSTAMP}, "parent_id"),
        (SfAccount, {"id": "acme", "name": "A", "modstamp": MODSTAMP}, "id"),
        (SfContact, {"id": "0035g00000AAAAAAAA", "account_id": "0015", "modstamp": MODSTAMP}, "account_id"),
        (SfUser, {"id": "alice", "name": "Alice", "modstamp": MODSTAMP}, "id"),
        (SfOpportunity, _opp(id=""), "id"),
    ],
)  # fmt: skip
def test_every_salesforce_id_field_is_checked(model, row, field) -> None:
    reason = _reject(model, row, "s")
    assert reason.startswith(f"{field}:"), reason


def test_an_empty_optional_reference_is_absent_not_invalid() -> None:
    records, rejected = validate_rows(
        SfOpportunity, [_opp(account_id="")], source="salesforce", stream="o", id_key="id"
    )
    assert rejected == [] and records[0].account_id is None


def _org(**over: Any) -> dict[str, Any]:
    return {"id": 77, "name": "Acme", "updated_at": "2024-01-02T00:00:00Z", **over}


@pytest.mark.parametrize("when", ["yesterday", "2024-13-45T00:00:00Z", "soon", "0000-00-00"])
def test_an_organization_with_an_unreadable_created_at_is_rejected(when: str) -> None:
    reason = _reject(ZdOrganization, _org(created_at=when), "organizations")
    assert reason.startswith("created_at:"), reason
    assert _reject(ZdUser, {"id": 5, "created_at": when, "updated_at": MODSTAMP}, "users")


@pytest.mark.parametrize("when", ["2023-09-18T15:57:42Z", None, ""])
def test_an_organization_with_a_real_or_absent_created_at_is_kept(when: str | None) -> None:
    records, rejected = validate_rows(
        ZdOrganization, [_org(created_at=when)], source="zendesk", stream="o", id_key="id"
    )
    assert rejected == [] and records[0].id == 77
