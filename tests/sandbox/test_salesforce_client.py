"""The real simple-salesforce client against the Salesforce simulator."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import requests
from simple_salesforce.exceptions import (
    SalesforceAuthenticationFailed,
    SalesforceExpiredSession,
    SalesforceMalformedRequest,
    SalesforceRefusedRequest,
    SalesforceResourceNotFound,
)

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


def test_soap_login_then_query(sb: Sandbox) -> None:
    sf = salesforce(
        sb,
        username=cred.SF_USERNAME,
        password=cred.SF_PASSWORD,
        security_token=cred.SF_SECURITY_TOKEN,
    )
    assert sf.session_id in sb.state.sf_sessions
    assert sf.query("SELECT COUNT() FROM Account")["totalSize"] == len(sb.world.sf["Account"])


def test_soql_filters_match_python_over_the_world(sb: Sandbox) -> None:
    sf = salesforce(sb)
    accounts = [a for a in sb.world.accounts if not a["IsDeleted"]]
    got = sf.query_all(
        "SELECT Id FROM Account WHERE (Tier__c IN ('Strategic', 'Tier 1') OR Segment__c = 'SMB') "
        "AND NOT Name LIKE 'a%' AND ARR__c >= 10000 ORDER BY ARR__c DESC NULLS LAST, Id"
    )["records"]
    want = sorted(
        (
            a
            for a in accounts
            if (a["Tier__c"] in ("Strategic", "Tier 1") or a["Segment__c"] == "SMB")
            and not a["Name"].lower().startswith("a")
            and a["ARR__c"] >= 10000
        ),
        key=lambda a: (-a["ARR__c"], a["Id"]),
    )
    assert [r["Id"] for r in got] == [a["Id"] for a in want] and want
    renewals = sf.query(
        "SELECT Id, CloseDate, Account.Name FROM Opportunity WHERE Type = 'Renewal' AND "
        "IsClosed = false AND CloseDate = NEXT_N_DAYS:120 ORDER BY CloseDate LIMIT 5 OFFSET 1"
    )["records"]
    soon = sorted(
        (
            o
            for o in sb.world.opportunities
            if o["Type"] == "Renewal"
            and not o["IsClosed"]
            and not o["IsDeleted"]
            and 0 < (o["CloseDate"] - sb.world.clock.today()).days <= 120
        ),
        key=lambda o: (o["CloseDate"], o["Id"]),
    )
    assert [r["Id"] for r in renewals] == [o["Id"] for o in soon[1:6]]
    assert renewals[0]["Account"]["Name"]


def test_describe_limits_and_record_get(sb: Sandbox) -> None:
    sf = salesforce(sb)
    fields = {f["name"]: f for f in sf.Account.describe()["fields"]}
    assert fields["Health_Score__c"]["updateable"] and not fields["SystemModstamp"]["updateable"]
    assert (
        fields["OwnerId"]["referenceTo"] == ["User"]
        and fields["OwnerId"]["relationshipName"] == "Owner"
    )
    assert [v["value"] for v in fields["Tier__c"]["picklistValues"]] == [
        "Strategic",
        "Tier 1",
        "Tier 2",
        "Tier 3",
    ]
    assert sf.Contact.metadata()["objectDescribe"]["keyPrefix"] == "003"
    limits = sf.limits()
    assert limits["DailyApiRequests"]["Max"] == sb.limits.sf_daily
    acc = sb.world.accounts[0]
    got = sf.Account.get(acc["Id"])
    assert got["Name"] == acc["Name"] and got["attributes"]["type"] == "Account"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000", got["SystemModstamp"])
    assert sf.Account.get(acc["Id"][:15])["Id"] == acc["Id"]
    short = sf.query(f"SELECT Id FROM Contact WHERE AccountId = '{acc['Id'][:15]}'")
    assert (
        short["totalSize"]
        == sum(c["AccountId"] == acc["Id"] and not c["IsDeleted"] for c in sb.world.contacts)
        > 0
    )
    with pytest.raises(SalesforceResourceNotFound):
        sf.Account.get("001000000000000AAA")


def test_oauth_flows_and_failed_login(fresh: Sandbox) -> None:
    pw = salesforce(
        fresh,
        username=cred.SF_USERNAME,
        password=cred.SF_PASSWORD,
        consumer_key=cred.SF_CONSUMER_KEY,
        consumer_secret=cred.SF_CONSUMER_SECRET,
    )
    cc = salesforce(
        fresh,
        consumer_key=cred.SF_CONSUMER_KEY,
        consumer_secret=cred.SF_CONSUMER_SECRET,
        domain="sandbox.my",
    )
    for sf in (pw, cc):
        assert sf.session_id in fresh.state.sf_sessions
        assert sf.query("SELECT COUNT() FROM User")["totalSize"] == len(fresh.world.users)
    token = requests.post(
        f"{fresh.base_url}/services/oauth2/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": cred.SF_REFRESH_TOKEN,
            "client_id": cred.SF_CONSUMER_KEY,
        },
        timeout=5,
    ).json()
    assert token["access_token"] in fresh.state.sf_sessions and token["token_type"] == "Bearer"
    with pytest.raises(SalesforceAuthenticationFailed):
        salesforce(fresh, username=cred.SF_USERNAME, password="wrong", security_token="x")


def test_expired_session_in_login_mode_logs_in_again(fresh: Sandbox) -> None:
    sf = salesforce(
        fresh,
        username=cred.SF_USERNAME,
        password=cred.SF_PASSWORD,
        security_token=cred.SF_SECURITY_TOKEN,
    )
    old = sf.session_id
    fresh.faults.add(r"/query", "expire_session", times=1)
    assert sf.query("SELECT COUNT() FROM Account")["totalSize"] > 0
    assert sf.session_id != old and old not in fresh.state.sf_sessions
    logins = [r for r in fresh.requests if r["path"].startswith("/services/Soap/u/")]
    assert len(logins) == 2


def test_daily_request_budget(fresh: Sandbox) -> None:
    sf = salesforce(fresh)
    fresh.limits.sf_daily = fresh.limits.sf_used + 2
    sf.query("SELECT Id FROM User")
    assert sf.api_usage["api-usage"].used == sf.api_usage["api-usage"].total - 1
    sf.query("SELECT Id FROM User")
    with pytest.raises(SalesforceRefusedRequest) as exc:
        sf.query("SELECT Id FROM User")
    assert exc.value.content[0]["errorCode"] == "REQUEST_LIMIT_EXCEEDED"
    last = fresh.requests[-1]
    assert last["status"] == 403


def test_bulk2_query_pages_csv_through_locators(
    sb: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    import csv
    import io

    monkeypatch.setattr("simple_salesforce.bulk2.sleep", lambda _s: None)
    sf = salesforce(sb)
    pages = list(
        sf.bulk2.Contact.query(
            "SELECT Id, Email, Is_Champion__c, Account.Name, SystemModstamp FROM Contact",
            max_records=100,
            wait=0,
        )
    )
    rows = [r for p in pages for r in csv.DictReader(io.StringIO(p))]
    live = [c for c in sb.world.contacts if not c["IsDeleted"]]
    assert len(pages) == -(-len(live) // 100)
    assert sorted(r["Id"] for r in rows) == sorted(c["Id"] for c in live)
    assert set(rows[0]) == {"Id", "Email", "Is_Champion__c", "Account.Name", "SystemModstamp"}
    assert {r["Is_Champion__c"] for r in rows} == {"true", "false"}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z", rows[0]["SystemModstamp"])
    every = [
        r
        for p in sf.bulk2.Opportunity.query_all("SELECT Id, IsDeleted FROM Opportunity", wait=0)
        for r in csv.DictReader(io.StringIO(p))
    ]
    assert len(every) == len(sb.world.opportunities)
    with pytest.raises(SalesforceMalformedRequest):
        list(sf.bulk2.Contact.query("SELECT Id FROM Contact LIMIT 5 OFFSET 5", wait=0))


def test_only_ten_query_cursors_stay_open(sb: Sandbox) -> None:
    sf = salesforce(sb)
    opts = {"Sforce-Query-Options": "batchSize=200"}
    first = sf.query("SELECT Id FROM Contact", headers=opts)
    for _ in range(10):
        sf.query("SELECT Id FROM Contact", headers=opts)
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.query_more(first["nextRecordsUrl"], identifier_is_url=True)
    assert exc.value.content[0]["errorCode"] == "INVALID_QUERY_LOCATOR"


def test_naive_datetime_in_get_updated_is_rejected(sb: Sandbox) -> None:
    sf = salesforce(sb)
    naive = dt.datetime(2025, 6, 1, 12, 0)
    with pytest.raises(SalesforceMalformedRequest):
        sf.Account.updated(naive, naive + dt.timedelta(hours=1))
