"""The real simple-salesforce client against the Salesforce simulator."""

from __future__ import annotations

import pytest
from simple_salesforce.exceptions import SalesforceExpiredSession, SalesforceMalformedRequest

from sandbox import Sandbox
from sandbox import credentials as cred
from tests.sandbox.conftest import salesforce


def test_query_all_pages_through_next_records_url(sb: Sandbox) -> None:
    sf = salesforce(sb)
    q = (
        "SELECT Id, Name, Owner.Name, ARR__c, SystemModstamp FROM Contact "
        "WHERE SystemModstamp >= 2020-01-01T00:00:00Z ORDER BY SystemModstamp, Id"
    )
    sb.clear_log()
    result = sf.query_all(
        q.replace("Owner.Name, ARR__c", "Account.Name, Email"),
        headers={"Sforce-Query-Options": "batchSize=200"},
    )
    live = [c for c in sb.world.sf["Contact"].values() if not c["IsDeleted"]]
    assert result["totalSize"] == len(live) > 200
    assert len(result["records"]) == len(live)
    stamps = [r["SystemModstamp"] for r in result["records"]]
    assert stamps == sorted(stamps)
    first = result["records"][0]
    assert first["attributes"]["type"] == "Contact"
    assert set(first["Account"]) == {"attributes", "Name"}
    paged = [r for r in sb.requests if r["path"].startswith("/services/data/v59.0/query/01g")]
    assert len(paged) == -(-len(live) // 200) - 1
    assert sf.api_usage["api-usage"].used >= 1


def test_query_all_includes_deleted_rows(sb: Sandbox) -> None:
    sf = salesforce(sb)
    deleted = [o["Id"] for o in sb.world.sf["Opportunity"].values() if o["IsDeleted"]]
    assert deleted, "the world has recycle-bin opportunities"
    live = sf.query_all("SELECT Id FROM Opportunity WHERE IsDeleted = true")
    every = sf.query_all(
        "SELECT Id, IsDeleted FROM Opportunity WHERE IsDeleted = true", include_deleted=True
    )
    assert live["totalSize"] == 0
    assert sorted(r["Id"] for r in every["records"]) == sorted(deleted)


def test_unknown_field_and_bad_session(sb: Sandbox) -> None:
    sf = salesforce(sb)
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.query("SELECT Id, Nope__c FROM Account")
    assert exc.value.content[0]["errorCode"] == "INVALID_FIELD"
    bad = salesforce(sb)
    bad.session_id = "nope"
    bad.headers["Authorization"] = "Bearer nope"
    with pytest.raises(SalesforceExpiredSession) as exc2:
        bad.query("SELECT Id FROM Account")
    assert exc2.value.content == [
        {"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}
    ]


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


def test_soap_login_then_query(sb: Sandbox) -> None:
    sf = salesforce(
        sb,
        username=cred.SF_USERNAME,
        password=cred.SF_PASSWORD,
        security_token=cred.SF_SECURITY_TOKEN,
    )
    assert sf.session_id in sb.state.sf_sessions
    assert sf.query("SELECT COUNT() FROM Account")["totalSize"] == len(sb.world.sf["Account"])
