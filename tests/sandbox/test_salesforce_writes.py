"""The real simple-salesforce client writing to the Salesforce simulator: collections, single records, upserts."""

from __future__ import annotations

import datetime as dt

import pytest
from simple_salesforce.exceptions import (
    SalesforceMalformedRequest,
)

from sandbox import Sandbox
from tests.sandbox.conftest import salesforce


def test_collection_update_reports_per_record_results(fresh: Sandbox) -> None:
    sf = salesforce(fresh)
    ids = list(fresh.world.sf["Account"])[:3]
    before = fresh.world.sf["Account"][ids[0]]["SystemModstamp"]
    records = [
        {
            "attributes": {"type": "Account"},
            "id": ids[0],
            "Health_Score__c": 72,
            "Health_Status__c": "Green",
        },
        {"attributes": {"type": "Account"}, "id": ids[1], "Not_A_Field__c": 1},
        {"attributes": {"type": "Account"}, "id": ids[2], "Renewal_Risk_Level__c": "High"},
    ]
    out = sf.restful(
        "composite/sobjects", method="PATCH", json={"allOrNone": False, "records": records}
    )
    assert [r["success"] for r in out] == [True, False, True]
    assert out[1]["errors"][0]["statusCode"] == "INVALID_FIELD"
    assert out[1]["errors"][0]["fields"] == ["Not_A_Field__c"]
    acc = fresh.world.sf["Account"][ids[0]]
    assert acc["Health_Score__c"] == 72.0 and acc["SystemModstamp"] > before
    assert {
        "system": "salesforce",
        "kind": "account_fields",
        "target_id": ids[0],
        "changes": {"Health_Score__c": 72, "Health_Status__c": "Green"},
    } in fresh.writes


def test_all_or_none_rolls_back_and_lock_errors_are_injected(fresh: Sandbox) -> None:
    sf = salesforce(fresh)
    ids = list(fresh.world.sf["Account"])[:2]
    fresh.faults.record_errors(code="UNABLE_TO_LOCK_ROW", ids=[ids[1]], times=1)
    recs = [{"attributes": {"type": "Account"}, "id": i, "Health_Score__c": 10} for i in ids]
    out = sf.restful(
        "composite/sobjects", method="PATCH", json={"allOrNone": True, "records": recs}
    )
    assert out[0]["errors"][0]["statusCode"] == "ALL_OR_NONE_OPERATION_ROLLED_BACK"
    assert out[1]["errors"][0]["statusCode"] == "UNABLE_TO_LOCK_ROW"
    assert fresh.world.sf["Account"][ids[0]]["Health_Score__c"] is None
    again = sf.restful(
        "composite/sobjects", method="PATCH", json={"allOrNone": True, "records": recs}
    )
    assert all(r["success"] for r in again)


def test_single_record_writes_updated_and_deleted(fresh: Sandbox) -> None:
    sf = salesforce(fresh)
    now = fresh.world.clock.now()
    acc, contact = fresh.world.accounts[0], fresh.world.contacts[0]
    assert sf.Account.update(acc["Id"], {"Renewal_Risk__c": 40}) == 204
    task = sf.Task.create(
        {
            "WhatId": acc["Id"],
            "Subject": "Health dropped to Red",
            "ActivityDate": "2025-06-09",
            "Priority": "High",
        }
    )
    assert task["success"] and task["id"].startswith("00T")
    assert sf.Contact.delete(contact["Id"]) == 204
    window = (now - dt.timedelta(hours=1), now + dt.timedelta(hours=1))
    assert acc["Id"] in sf.Account.updated(*window)["ids"]
    deleted = sf.Contact.deleted(*window)["deletedRecords"]
    assert [d["id"] for d in deleted] == [contact["Id"]]
    kinds = [w["kind"] for w in fresh.writes]
    assert kinds == ["account_fields", "task_created", "contact_deleted"]
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.Account.update(acc["Id"], {"Renewal_Risk_Level__c": "Catastrophic"})
    assert exc.value.content[0]["errorCode"] == "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"


def test_upsert_by_external_id(fresh: Sandbox) -> None:
    sf = salesforce(fresh)
    acc = fresh.world.accounts[1]
    acc["Usage_Workspace_Id__c"] = "ws_upsert_me"
    assert sf.Account.upsert("Usage_Workspace_Id__c/ws_upsert_me", {"Health_Score__c": 55}) == 204
    assert acc["Health_Score__c"] == 55.0
    out = sf.restful(
        "composite/sobjects/Account/Usage_Workspace_Id__c",
        method="PATCH",
        json={
            "allOrNone": False,
            "records": [
                {
                    "attributes": {"type": "Account"},
                    "Usage_Workspace_Id__c": "ws_upsert_me",
                    "Health_Score__c": 56,
                },
                {
                    "attributes": {"type": "Account"},
                    "Usage_Workspace_Id__c": "ws_new",
                    "Name": "Brand New Ltd",
                },
            ],
        },
    )
    assert [(r["success"], r["created"]) for r in out] == [(True, False), (True, True)]


def test_collection_create_tasks(fresh: Sandbox) -> None:
    sf = salesforce(fresh)
    acc = fresh.world.accounts[0]
    out = sf.restful(
        "composite/sobjects",
        method="POST",
        json={
            "allOrNone": False,
            "records": [
                {"attributes": {"type": "Task"}, "WhatId": acc["Id"], "Subject": "Champion left"},
                {"attributes": {"type": "Account"}},
                {"attributes": {"type": "Task"}, "WhatId": acc["Id"], "Bogus__c": 1},
            ],
        },
    )
    assert out[0]["success"] and out[0]["id"].startswith("00T")
    assert out[1]["errors"][0]["statusCode"] == "REQUIRED_FIELD_MISSING"
    assert out[2]["errors"][0]["statusCode"] == "INVALID_FIELD"
    tasks = sf.query(f"SELECT Id, Subject, Status FROM Task WHERE WhatId = '{acc['Id']}'")[
        "records"
    ]
    assert [(t["Id"], t["Subject"], t["Status"]) for t in tasks] == [
        (out[0]["id"], "Champion left", "Not Started")
    ]
    assert [w["kind"] for w in fresh.writes] == ["task_created"]
