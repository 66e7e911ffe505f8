"""The Salesforce connector on real simple-salesforce against the loopback sandbox."""

from __future__ import annotations

import datetime as dt

import pytest

from connectors.errors import AuthError, Fatal
from connectors.http import RetryPolicy
from connectors.salesforce import SalesforceConnector
from connectors.salesforce_records import AccountUpdate
from tests.connectors.conftest import sandbox_salesforce


def make(sb, policy: RetryPolicy, **kwargs) -> SalesforceConnector:
    kwargs.setdefault("bulk_threshold", None)
    return SalesforceConnector(sandbox_salesforce(sb.base_url), policy=policy, **kwargs)


def _count(sf: SalesforceConnector, sobject: str) -> int:
    return int(sf.sf.query(f"SELECT COUNT() FROM {sobject}", include_deleted=True)["totalSize"])


@pytest.mark.parametrize(("stream", "sobject"), [("accounts", "Account"), ("contacts", "Contact"),
                                                 ("opportunities", "Opportunity"), ("users", "User")])  # fmt: skip
def test_full_pull_is_complete_and_unique(sandbox, policy, stream, sobject) -> None:
    sf = make(sandbox, policy, page_size=25)
    pages = list(sf.pull(stream, None))
    ids = [r.id for p in pages for r in p.records] + [
        x.external_id for p in pages for x in p.rejected
    ]
    assert len(ids) == len(set(ids)) == _count(sf, sobject)
    assert sf.calls == len(pages) + (1 if len(ids) % 25 == 0 else 0)


@pytest.mark.parametrize("stream", ["accounts", "contacts", "opportunities"])
def test_first_pull_costs_exactly_its_pages(sandbox, policy, stream) -> None:
    """The first page's totalSize decides REST vs Bulk: no COUNT(), no trailing empty page."""
    sf = make(sandbox, policy, page_size=25, bulk_threshold=50_000)
    sobject = {"accounts": "Account", "contacts": "Contact", "opportunities": "Opportunity"}
    total = _count(sf, sobject[stream])
    sandbox.clear_log()
    sf.calls = 0
    pages = list(sf.pull(stream, None))
    assert sum(len(p.records) + len(p.rejected) for p in pages) == total
    assert sf.calls == -(-total // 25) == len(sandbox.requests)
    assert not any("COUNT()" in str(r["query"]) for r in sandbox.requests)
    assert "LIMIT" not in sandbox.requests[0]["query"]["q"]


def test_bulk_takes_over_after_the_first_page_above_the_threshold(sandbox, policy) -> None:
    sf = make(sandbox, policy, page_size=25, bulk_threshold=10, bulk_poll_wait=0)
    total = _count(sf, "Account")
    sandbox.clear_log()
    pages = list(sf.pull("accounts", None))
    ids = [r.id for p in pages for r in p.records] + [
        x.external_id for p in pages for x in p.rejected
    ]
    assert len(ids) == len(set(ids)) == total
    paths = [r["path"] for r in sandbox.requests]
    assert paths[0].endswith("/queryAll/") and any("/jobs/query" in p for p in paths[1:])
    assert sum(p.endswith(("/query/", "/queryAll/")) for p in paths) == 1, "one REST page"
    assert pages[0].cursor is not None and pages[-1].cursor is not None


def test_concurrent_update_mid_sync_arrives_once(sandbox, policy) -> None:
    sf = make(sandbox, policy, page_size=10)
    pull = sf.pull("accounts", None)
    first = next(pull)
    seen_ids = {r.id for r in first.records}
    all_ids = [
        r["Id"]
        for r in sf.sf.query_all("SELECT Id FROM Account ORDER BY SystemModstamp, Id")["records"]
    ]
    unseen = next(i for i in reversed(all_ids) if i not in seen_ids)
    touched_seen = first.records[0].id
    sf.sf.Account.update(unseen, {"Health_Score__c": 11})
    sf.sf.Account.update(touched_seen, {"Health_Score__c": 12})
    rest = [r.id for p in pull for r in p.records]
    delivered = [r.id for r in first.records] + rest
    assert set(delivered) == set(all_ids), "nothing lost"
    assert delivered.count(unseen) == 1, "updated before delivery: exactly once"
    assert delivered.count(touched_seen) == 2, "updated after delivery: its new version again"
    assert len(delivered) == len(all_ids) + 1


def test_rows_in_one_rendered_millisecond_split_by_a_page_are_all_delivered(sandbox, policy):
    """The sandbox stores SystemModstamp to the microsecond and renders milliseconds: two
    rows in one rendered millisecond come in stored-time order, which need not be Id order.
    A page ending on the first must not drop the second as a boundary row sent again, in the
    same pull or in the next one from the saved cursor."""
    accounts = sandbox.world.sf["Account"]
    low, high = sorted(accounts)[:2]
    newest = max(r["SystemModstamp"] for r in accounts.values())
    base = (newest + dt.timedelta(seconds=1)).replace(microsecond=0)
    accounts[high]["SystemModstamp"] = base + dt.timedelta(microseconds=100)  # stored first
    accounts[low]["SystemModstamp"] = base + dt.timedelta(microseconds=600)  # same millisecond
    sf = make(sandbox, policy, page_size=len(accounts) - 1)  # the first page ends on `high`
    pages = list(sf.pull("accounts", None))
    ids = [r.id for p in pages for r in p.records] + [
        x.external_id for p in pages for x in p.rejected
    ]
    assert sorted(ids) == sorted(accounts), "every row once"
    # resuming from a cursor saved on `high` (a run that stopped there) delivers `low`
    first = sf.pull("accounts", None)
    cursor = next(first).cursor
    first.close()
    resumed = [r.id for p in sf.pull("accounts", cursor) for r in p.records]
    assert resumed == [low]


def test_429_is_waited_out(sandbox, policy, sleeps) -> None:
    sandbox.faults.add(r"/query", 429, times=2)
    sf = make(sandbox, policy)
    assert list(sf.pull("users", None))
    assert len(sleeps) == 2


def test_400_is_not_retried(sandbox, policy) -> None:
    sandbox.faults.add(r"/query", 400, times=1)
    sf = make(sandbox, policy)
    with pytest.raises(Fatal):
        list(sf.pull("users", None))
    assert sf.calls == 1


def test_expired_session_refreshes_once(sandbox, policy) -> None:
    refreshed: list[int] = []
    sandbox.faults.add(r"/query", "expire_session", times=1)
    sf = make(sandbox, policy, refresh_session=lambda: refreshed.append(1))
    assert list(sf.pull("users", None))
    assert refreshed == [1]
    sandbox.faults.add(r"/query", "expire_session", times=2)
    with pytest.raises(AuthError):
        list(make(sandbox, policy, refresh_session=lambda: refreshed.append(2)).pull("users", None))
    assert refreshed == [1, 2]


def test_mixed_collection_results_on_the_sandbox(sandbox, policy) -> None:
    sf = make(sandbox, policy)
    ids = [r.id for p in sf.pull("accounts", None) for r in p.records][:5]
    sandbox.faults.record_errors(code="UNABLE_TO_LOCK_ROW", ids=[ids[1]], times=1)
    sandbox.faults.record_errors(code="INVALID_FIELD", ids=[ids[2]], times=9,
                                 message="sandbox says no")  # fmt: skip
    results = sf.update_accounts([AccountUpdate(id=i, fields={"Health_Score__c": 70}) for i in ids])
    assert [r.ok for r in results] == [True, True, False, True, True]
    assert results[2].error_code == "INVALID_FIELD" and results[2].message == "sandbox says no"
    assert not results[2].retriable
