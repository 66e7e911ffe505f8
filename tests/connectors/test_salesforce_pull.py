"""Salesforce pulls through the real simple-salesforce client against an in-memory org."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from connectors.errors import BudgetExhausted
from connectors.http import RetryPolicy
from connectors.salesforce import SalesforceConnector
from tests.connectors.conftest import fake_salesforce
from tests.connectors.fake_salesforce import FakeOrg, sf_ts

T0 = dt.datetime(2024, 3, 1, 12, 0, tzinfo=dt.UTC)


def _parse_sf(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def account(n: int, at: dt.datetime, **extra: Any) -> dict[str, Any]:
    return {
        "Id": f"001{n:015d}",
        "Name": f"Account {n}",
        "Website": f"https://a{n}.example",
        "OwnerId": "005000000000000001",
        "Owner.Name": None,
        "ARR__c": 1000.0 * n,
        "Renewal_Date__c": "2025-01-31",
        "IsDeleted": False,
        "SystemModstamp": sf_ts(at),
        **extra,
    }


@pytest.fixture
def org() -> FakeOrg:
    org = FakeOrg()
    org.tables["Account"] = []
    return org


def connector(org: FakeOrg, policy: RetryPolicy, **kwargs: Any) -> SalesforceConnector:
    sf, _ = fake_salesforce(org.handler)
    kwargs.setdefault("bulk_threshold", None)
    kwargs.setdefault("bulk_poll_wait", 0)
    return SalesforceConnector(sf, policy=policy, **kwargs)


def delivered(pages: list[Any]) -> list[tuple[str, dt.datetime]]:
    return [(r.id, r.modstamp) for p in pages for r in p.records]


def test_shared_modstamp_across_pages_and_concurrent_update(org: FakeOrg, policy) -> None:
    """Rows share a SystemModstamp across a page boundary; updates land mid-sync."""
    tied = T0 + dt.timedelta(minutes=5)
    org.tables["Account"] = [account(1, T0)] + [account(n, tied) for n in range(2, 9)]
    org.tables["Account"] += [account(9, T0 + dt.timedelta(minutes=9))]
    late = T0 + dt.timedelta(hours=1)

    def concurrent_update(query_no: int) -> None:
        if query_no == 2:  # after page 1 was read: touch one seen and one unseen row
            for row in org.tables["Account"]:
                if row["Id"] in (account(2, T0)["Id"], account(7, T0)["Id"]):
                    row["SystemModstamp"], row["Name"] = sf_ts(late), row["Name"] + " (edited)"

    org.on_query = concurrent_update
    pages = list(connector(org, policy, page_size=3).pull("accounts", None))
    seen = delivered(pages)
    ids = [i for i, _ in seen]
    assert len(set(seen)) == len(seen), "no (id, version) delivered twice"
    assert set(ids) == {account(n, T0)["Id"] for n in range(1, 10)}, "no row lost"
    unseen_updated = account(7, T0)["Id"]
    assert ids.count(unseen_updated) == 1, "a row updated before delivery arrives exactly once"
    seen_updated = account(2, T0)["Id"]
    assert [m for i, m in seen if i == seen_updated] == [tied, late], "an edit is a new version"
    assert all(len(p.records) <= 3 for p in pages)


def test_resume_from_any_page_cursor_loses_and_repeats_nothing(org: FakeOrg, policy) -> None:
    tied = T0 + dt.timedelta(minutes=1)
    org.tables["Account"] = [account(n, tied if n % 2 else T0) for n in range(1, 12)]
    full = list(connector(org, policy, page_size=4).pull("accounts", None))
    everything = delivered(full)
    for k, page in enumerate(full):
        rest = list(connector(org, policy, page_size=4).pull("accounts", page.cursor))
        assert delivered(full[: k + 1]) + delivered(rest) == everything


def test_modstamp_stored_finer_than_rendered_is_not_redelivered(org: FakeOrg, policy) -> None:
    """The server keeps microseconds but renders milliseconds: `>` matches the cursor row."""
    org.tables["Account"] = [account(n, T0 + dt.timedelta(seconds=n)) for n in range(1, 6)]
    for row in org.tables["Account"]:
        row["_precise"] = _parse_sf(row["SystemModstamp"]) + dt.timedelta(microseconds=400)
    pages = list(connector(org, policy, page_size=2).pull("accounts", None))
    ids = [r.id for p in pages for r in p.records]
    assert len(ids) == len(set(ids)) == 5


def test_start_date_filters_and_deletes_arrive(org: FakeOrg, policy) -> None:
    org.tables["Account"] = [
        account(1, T0 - dt.timedelta(days=2)),
        account(2, T0),
        account(3, T0 + dt.timedelta(seconds=1), IsDeleted=True),
    ]
    pages = list(connector(org, policy).pull("accounts", None, start=T0))
    records = [r for p in pages for r in p.records]
    assert [(r.id[-1], r.is_deleted) for r in records] == [("2", False), ("3", True)]
    assert "SystemModstamp >= 2024-03-01T12:00:00Z" in org.queries[0]


def test_mapped_fields_and_invalid_rows_are_quarantined(org: FakeOrg, policy) -> None:
    org.tables["Account"] = [account(1, T0), account(2, T0, Renewal_Date__c="not a date")]
    [page] = list(connector(org, policy).pull("accounts", None))
    assert [r.arr for r in page.records] == [1000.0]
    [bad] = page.rejected
    assert bad.source == "salesforce" and bad.stream == "accounts"
    assert bad.external_id == account(2, T0)["Id"] and "renewal_date" in bad.reason
    assert page.cursor is not None and account(2, T0)["Id"] in page.cursor


def test_budget_reserve_stops_early_after_a_committed_page(org: FakeOrg, policy) -> None:
    org.tables["Account"] = [account(n, T0 + dt.timedelta(seconds=n)) for n in range(1, 8)]
    org.limit_info = "api-usage=4950/5000"
    pages = []
    with pytest.raises(BudgetExhausted):
        for page in connector(org, policy, page_size=3, budget_reserve=100).pull("accounts", None):
            pages.append(page)
    assert len(pages) == 1 and len(org.queries) == 1
    org.limit_info = "api-usage=10/5000"
    rest = list(connector(org, policy, page_size=3).pull("accounts", pages[0].cursor))
    assert len(delivered(pages) + delivered(rest)) == 7


def test_api_usage_is_reported(org: FakeOrg, policy) -> None:
    org.limit_info = "api-usage=18/5000"
    c = connector(org, policy)
    list(c.pull("accounts", None))
    assert c.api_usage() == (18, 5000)


def test_bulk_query_above_threshold(org: FakeOrg, policy) -> None:
    """The first page's totalSize (no COUNT() call) sends the rest of a big object to Bulk."""
    org.tables["Account"] = [account(n, T0 + dt.timedelta(seconds=n)) for n in range(1, 8)]
    org.tables["Account"][3]["IsDeleted"] = True
    c = connector(org, policy, page_size=3, bulk_threshold=5)
    pages = list(c.pull("accounts", None))
    assert not any("COUNT()" in q for q in org.queries)
    assert org.queries[0].startswith("SELECT Id, Name") and "LIMIT" not in org.queries[0]
    assert org.queries[1].startswith("BULK queryAll: SELECT Id, Name")
    assert "ORDER BY" not in org.queries[1], "Bulk API 2.0 rejects ORDER BY"
    assert f"Id > '{account(3, T0)['Id']}'" in org.queries[1], "bulk reads after the first page"
    records = [r for p in pages for r in p.records]
    assert len(records) == 7 and [len(p.records) for p in pages] == [3, 3, 1]
    assert len({r.id for r in records}) == 7
    assert records[3].is_deleted is True and records[0].arr == 1000.0
    assert [p.cursor is None for p in pages] == [False, True, False], "bulk: resume at its end"
    rest = list(connector(org, policy).pull("accounts", pages[-1].cursor))
    newest = T0 + dt.timedelta(seconds=7)
    assert all(r.modstamp >= newest - dt.timedelta(hours=1) for p in rest for r in p.records)
    assert len([r for p in rest for r in p.records]) == 7, "steps back bulk_overlap (1h)"


@pytest.mark.parametrize(("rows", "queries"), [(0, 1), (2, 1), (3, 1), (6, 2), (7, 3), (9, 3)])
def test_first_pull_below_bulk_threshold_costs_exactly_its_pages(
    org: FakeOrg, policy, rows: int, queries: int
) -> None:
    """ceil(rows / page) requests: no COUNT(), and no empty query after an exactly full page."""
    org.tables["Account"] = [account(n, T0 + dt.timedelta(seconds=n)) for n in range(1, rows + 1)]
    pages = list(connector(org, policy, page_size=3, bulk_threshold=50).pull("accounts", None))
    assert len(org.queries) == queries, org.queries
    assert not any(q.startswith(("BULK", "SELECT COUNT()")) for q in org.queries)
    assert [r.id for p in pages for r in p.records] == [
        account(n, T0)["Id"] for n in range(1, rows + 1)
    ]
    assert all(len(p.records) <= 3 for p in pages)
    if rows:
        rest = list(connector(org, policy, page_size=3).pull("accounts", pages[-1].cursor))
        assert delivered(rest) == [], "the last page's cursor is past every row"


def test_incremental_pull_never_asks_for_the_total(org: FakeOrg, policy) -> None:
    org.tables["Account"] = [account(n, T0 + dt.timedelta(seconds=n)) for n in range(1, 5)]
    [first] = list(connector(org, policy, page_size=10, bulk_threshold=50).pull("accounts", None))
    org.queries.clear()
    org.tables["Account"][0]["SystemModstamp"] = sf_ts(T0 + dt.timedelta(minutes=5))
    [page] = list(
        connector(org, policy, page_size=10, bulk_threshold=50).pull("accounts", first.cursor)
    )
    assert [r.id for r in page.records] == [account(1, T0)["Id"]]
    assert len(org.queries) == 1 and org.queries[0].endswith("LIMIT 10")


def test_users_stream_uses_query_not_query_all(org: FakeOrg, policy) -> None:
    org.tables["User"] = [
        {
            "Id": "005000000000000AAA",
            "Name": "Ann",
            "Email": "a@x",
            "IsActive": True,
            "SystemModstamp": sf_ts(T0),
        }
    ]
    [page] = list(connector(org, policy).pull("users", None))
    assert page.records[0].email == "a@x"


def test_get_deleted_with_aware_datetimes(org: FakeOrg, policy) -> None:
    c = connector(org, policy)
    assert c.deleted_ids("accounts", T0, T0 + dt.timedelta(days=1)) == ["001D"]
    assert org.queries == ["DELETED 2024-03-01T12:00:00+00:00 2024-03-02T12:00:00+00:00"]
    with pytest.raises(ValueError, match="aware"):
        c.deleted_ids("accounts", dt.datetime(2024, 3, 1), T0)
