"""Salesforce writes via sObject Collections: batching, per-record results, refusals."""

from __future__ import annotations

import datetime as dt
from typing import Any

from connectors.http import RetryPolicy
from connectors.salesforce import SalesforceConnector
from connectors.salesforce_fields import SalesforceFieldMap
from connectors.salesforce_records import AccountUpdate, TaskCreate
from tests.connectors.conftest import fake_salesforce
from tests.connectors.fake_salesforce import FakeOrg


def ok(record_id: str, created: bool | None = None) -> dict[str, Any]:
    result: dict[str, Any] = {"id": record_id, "success": True, "errors": []}
    if created is not None:
        result["created"] = created
    return result


def failed(code: str, message: str) -> dict[str, Any]:
    return {"success": False, "errors": [{"statusCode": code, "message": message, "fields": []}]}


def make(
    org: FakeOrg, policy: RetryPolicy, fields: SalesforceFieldMap | None = None
) -> tuple[SalesforceConnector, Any]:
    sf, server = fake_salesforce(org.handler)
    fields = fields or SalesforceFieldMap()
    return SalesforceConnector(sf, fields, policy=policy, bulk_threshold=None), server


def update(n: int, **fields: Any) -> AccountUpdate:
    return AccountUpdate(id=f"001{n:015d}", fields=fields or {"Health_Score__c": 50 + n})


def test_mixed_results_success_lock_retry_and_dead_letter(policy: RetryPolicy, sleeps) -> None:
    org = FakeOrg()
    message = "No such column 'Health_Score__c' on entity 'Account'"
    org.collection_results = [
        [
            ok(update(1).id),
            failed("UNABLE_TO_LOCK_ROW", "unable to obtain exclusive access to this record"),
            failed("INVALID_FIELD", message),
        ],
        [ok(update(2).id)],
    ]
    sf, _ = make(org, policy)
    results = sf.update_accounts([update(1), update(2), update(3)])
    assert [r.ok for r in results] == [True, True, False]
    assert [r.target_id for r in results] == [update(n).id for n in (1, 2, 3)]
    dead = results[2]
    assert (
        dead.retriable is False and dead.error_code == "INVALID_FIELD" and dead.message == message
    )
    first, second = org.collection_requests
    assert first["allOrNone"] is False and len(first["records"]) == 3
    assert [r["id"] for r in second["records"]] == [update(2).id], "only the locked row is re-sent"
    assert first["records"][0] == {
        "attributes": {"type": "Account"},
        "id": update(1).id,
        "Health_Score__c": 51,
    }


def test_lock_that_never_clears_is_reported_retriable(policy: RetryPolicy) -> None:
    org = FakeOrg()
    org.collection_results = [[failed("UNABLE_TO_LOCK_ROW", "locked")] for _ in range(4)]
    sf, _ = make(org, policy)
    [result] = sf.update_accounts([update(1)])
    assert not result.ok and result.retriable and result.error_code == "UNABLE_TO_LOCK_ROW"
    assert len(org.collection_requests) == 4


def test_field_outside_allow_list_is_refused_before_any_call(policy: RetryPolicy) -> None:
    org = FakeOrg()
    sf, server = make(org, policy)
    [result] = sf.update_accounts([update(1, Name="Evil Corp")])
    assert not result.ok and not result.retriable and result.error_code == "FIELD_NOT_WRITABLE"
    assert "Name" in (result.message or "") and "writable_fields" in (result.message or "")
    assert server.requests == []


def test_field_missing_in_org_is_refused_before_the_write(policy: RetryPolicy) -> None:
    org = FakeOrg()
    org.collection_results = [[ok(update(2).id)]]
    sf, _ = make(org, policy)
    results = sf.update_accounts([update(1, Health_Trend__c="up"), update(2)])
    assert results[0].error_code == "INVALID_FIELD" and "Health_Trend__c" in (
        results[0].message or ""
    )
    assert results[1].ok
    [only] = org.collection_requests
    assert [r["id"] for r in only["records"]] == [update(2).id]


def test_batches_of_200_in_input_order(policy: RetryPolicy) -> None:
    org = FakeOrg()
    updates = [update(n) for n in range(450)]
    org.collection_results = [[ok(u.id) for u in updates[i : i + 200]] for i in (0, 200, 400)]
    sf, _ = make(org, policy)
    results = sf.update_accounts(updates)
    assert [len(r["records"]) for r in org.collection_requests] == [200, 200, 50]
    assert [r.target_id for r in results] == [u.id for u in updates] and all(r.ok for r in results)


def task(n: int) -> TaskCreate:
    return TaskCreate(
        what_id="001A",
        owner_id="005A",
        subject="Renewal at risk",
        due_date=dt.date(2025, 1, 2),
        key=f"task-{n}",
    )


def test_tasks_upsert_by_key_when_the_org_has_a_key_field(policy: RetryPolicy) -> None:
    org = FakeOrg()
    org.collection_results = [[ok("00T1", created=True), ok("00T2", created=False)]]
    sf, server = make(org, policy, SalesforceFieldMap(task_key_field="Pulsehub_Key__c"))
    results = sf.create_tasks([task(1), task(2)])
    assert [(r.target_id, r.ok, r.created_id) for r in results] == [
        ("task-1", True, "00T1"),
        ("task-2", True, "00T2"),
    ]
    assert server.requests[0].url.endswith("/composite/sobjects/Task/Pulsehub_Key__c")
    record = org.collection_requests[0]["records"][0]
    assert record["Pulsehub_Key__c"] == "task-1" and record["ActivityDate"] == "2025-01-02"


def test_tasks_created_once_with_a_key_marker(policy: RetryPolicy) -> None:
    org = FakeOrg()
    org.tables["Task"] = [
        {
            "Id": "00T9",
            "Description": "old\n\n[pulsehub:task-1]",
            "SystemModstamp": "2024-01-01T00:00:00.000+0000",
        }
    ]
    org.collection_results = [[ok("00T2", created=True)]]
    sf, _ = make(org, policy)
    results = sf.create_tasks([task(1), task(2)])
    assert [(r.target_id, r.ok, r.created_id) for r in results] == [
        ("task-1", True, "00T9"),
        ("task-2", True, "00T2"),
    ], "task-1 exists already: not created again"
    [sent] = org.collection_requests
    assert [r["Description"] for r in sent["records"]] == ["[pulsehub:task-2]"]
    assert "WhatId IN ('001A') AND Subject IN ('Renewal at risk')" in org.queries[0]


def test_task_create_is_not_retried_on_a_5xx(policy: RetryPolicy) -> None:
    org = FakeOrg()
    org.tables["Task"] = []
    org.collection_results = [(503, [{"errorCode": "SERVER_UNAVAILABLE", "message": "down"}])]
    sf, _ = make(org, policy)
    [result] = sf.create_tasks([task(1)])
    assert not result.ok and result.retriable, "the outbox retries later; the marker dedupes"
    assert len(org.collection_requests) == 1
