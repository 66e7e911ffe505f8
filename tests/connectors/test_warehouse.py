"""The warehouse connector on SQLite and on the real PostgreSQL: keyset pages, the incremental
cursor and its look-back, table mapping and query mode, event roll-up and quarantine."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine

from connectors.errors import Fatal
from connectors.usage_records import UsageDay
from tests.connectors.warehouse_db import (
    DAILY,
    DAILY_COLUMNS,
    EVENT_COLUMNS,
    EVENTS,
    TODAY,
    WORKSPACE_COLUMNS,
    WORKSPACES,
    at,
    connector,
    daily_rows,
    insert,
    make_warehouse,
)

DAY = dt.timedelta(days=1)
START = at(TODAY - 30 * DAY)


@pytest.fixture
def wh(any_db_url: str) -> Iterator[tuple[str, Engine]]:
    engine = make_warehouse(any_db_url)
    yield any_db_url, engine
    engine.dispose()


def _records(pages: list[Any]) -> list[Any]:
    return [r for p in pages for r in p.records]


def _by_query(url: str, query: str, page_size: int) -> list[Any]:
    """Daily usage pages read through `query` from the first pull's start."""
    c = connector(url, page_size=page_size, daily_usage={"query": query})
    return list(c.pull("daily_usage", None, start=START))


def test_daily_usage_comes_in_keyset_pages_that_resume_after_any_page(wh) -> None:
    url, engine = wh
    insert(engine, DAILY, daily_rows(3, 25))
    c = connector(url, page_size=10)
    pages = list(c.pull("daily_usage", None, start=at(TODAY - 19 * DAY)))
    assert [len(p.records) for p in pages] == [10] * 6 + [0]  # 3 x 20 days from the start
    assert c.calls == 7
    got = {(r.workspace_id, r.day): r for r in _records(pages)}
    assert len(got) == 60 and min(day for _, day in got) == TODAY - 19 * DAY
    assert got[("2", TODAY - 3 * DAY)] == UsageDay(
        workspace_id="2", day=TODAY - 3 * DAY, active_users=203, logins=3, feature_events=6,
        features_used=1,
    )  # fmt: skip
    order = [(r.day, int(r.workspace_id)) for r in _records(pages)]
    assert order == sorted(order)
    resumed = list(c.pull("daily_usage", pages[2].cursor))
    assert _records(resumed) == _records(pages[3:])
    assert json.loads(pages[-1].cursor) == {"from": {"date": str(TODAY - 3 * DAY)}}


@pytest.mark.parametrize("cursor", ["day", "updated_at"])
def test_the_next_pull_rereads_the_lookback_and_so_gets_late_rows(wh, cursor: str) -> None:
    url, engine = wh
    insert(engine, DAILY, daily_rows(2, 10))  # each day loaded at 23:00 that day
    columns = {**DAILY_COLUMNS, "updated_at": "loaded_at"}
    daily = {"table": "usage_by_day", "columns": columns, "cursor": cursor}
    c = connector(url, lookback_days=2, daily_usage=daily)
    first = list(c.pull("daily_usage", None, start=START))
    assert len(_records(first)) == 20
    late = at(TODAY + DAY, 1)  # arrived after the first pull: one recent day, one old day
    insert(engine, DAILY, daily_rows(3, 2, loaded=late)[2:])  # workspace 3: TODAY, TODAY - 1
    insert(engine, DAILY, [{**daily_rows(1, 7, loaded=late)[6], "ws_id": 4}])
    second = _records(list(c.pull("daily_usage", first[-1].cursor)))
    keys = {(r.workspace_id, (TODAY - r.day).days) for r in second}
    rereads = {(w, d) for w in ("1", "2") for d in (0, 1, 2)}  # TODAY - lookback .. TODAY
    if cursor == "day":  # a late row older than the look-back is missed by a day cursor
        assert keys == rereads | {("3", 0), ("3", 1)}
    else:  # an updated-at cursor sees every change since its newest value's day, minus 2
        assert keys == rereads | {("3", 0), ("3", 1), ("4", 6)}


def test_workspaces_are_read_whole_without_a_cursor_and_by_change_with_one(wh) -> None:
    url, engine = wh
    insert(
        engine,
        WORKSPACES,
        [
            {"ws_id": i, "ws_name": f"W{i}", "web_domain": f"w{i}.test", "sfdc_id": None,
             "modified_at": at(TODAY - (10 - i) * DAY)}
            for i in range(1, 6)
        ],
    )  # fmt: skip
    whole = connector(url, page_size=2, workspaces={"table": "crm_workspaces", "columns": {
        "id": "ws_id", "name": "ws_name", "domain": "web_domain", "crm_account_id": None,
    }})  # fmt: skip
    assert whole.streams["workspaces"].mode == "full"
    pages = list(whole.pull("workspaces", None))
    assert [r.id for r in _records(pages)] == ["1", "2", "3", "4", "5"]
    assert pages[-1].cursor is None  # read whole next time too
    assert _records(pages)[0].domain == "w1.test"
    changed = connector(url, lookback_days=1, workspaces={
        "table": "crm_workspaces", "columns": WORKSPACE_COLUMNS, "cursor": "updated_at",
    })  # fmt: skip
    assert changed.streams["workspaces"].cursor == "updated_at"
    state = list(changed.pull("workspaces", None))[-1].cursor
    again = _records(list(changed.pull("workspaces", state)))
    assert [r.id for r in again] == ["4", "5"]  # newest change's day minus one day on


def test_a_query_reads_what_the_mapping_reads(wh) -> None:
    url, engine = wh
    insert(engine, DAILY, daily_rows(3, 6))
    query = (
        "SELECT ws_id AS workspace_id, usage_date AS day, dau AS active_users, logins, "
        "feature_events, features_used, 'ignored' AS extra FROM usage_by_day WHERE ws_id <> 3"
    )
    mapped = _records(list(connector(url).pull("daily_usage", None, start=START)))
    queried = _records(_by_query(url, query, page_size=4))
    assert queried == [r for r in mapped if r.workspace_id != "3"] and len(queried) == 12


def test_malformed_rows_are_quarantined_and_the_pull_goes_on(wh) -> None:
    url, engine = wh
    insert(engine, DAILY, daily_rows(2, 3))
    query = (
        "SELECT ws_id AS workspace_id, usage_date AS day, CASE WHEN dau = 201 THEN 'many' "
        "ELSE CAST(dau AS VARCHAR(20)) END AS active_users FROM usage_by_day"
    )
    pages = _by_query(url, query, page_size=2)
    assert len(_records(pages)) == 5
    [bad] = [q for p in pages for q in p.rejected]
    assert (bad.source, bad.stream, bad.external_id) == ("usage", "daily_usage", "2")
    assert "active_users" in bad.reason and "many" in bad.raw
    assert json.loads(pages[-1].cursor) == {"from": {"date": str(TODAY - 3 * DAY)}}


def test_raw_events_roll_up_per_workspace_and_utc_day_and_late_events_land(wh) -> None:
    url, engine = wh
    d1, d0 = TODAY - DAY, TODAY
    rows = [
        ("a", at(d1, 9), "u1", "login", None, "i1"),
        ("a", at(d1, 9), "u1", "login", None, "i1"),  # delivered twice: counted once
        ("a", at(d1, 10), "u2", "report_run", "reports", "i2"),
        ("b", at(d1, 11), "u3", "export", "exports", "i3"),
        ("b", at(d1, 12), None, "export", "exports", "i-bad"),  # no user: quarantined
        ("a", at(d0, 1), "u1", "Sign In", None, "i4"),
    ]
    keys = ("account_ws", "occurred_at", "user_id", "event_name", "feature", "insert_id")
    insert(engine, EVENTS, [dict(zip(keys, r, strict=True)) for r in rows])
    events = {"table": "raw_events", "columns": {**EVENT_COLUMNS, "feature": "feature"}}
    c = connector(url, page_size=2, lookback_days=1, daily_usage=None, events=events)
    pages = list(c.pull("daily_usage", None, start=START))
    assert c.calls == 1  # one query, read in batches
    assert [{r.workspace_id for r in p.records} for p in pages] == [{"a", "b"}, {"a"}]
    got = {(r.workspace_id, r.day): r for r in _records(pages)}
    figures = {
        k: (r.active_users, r.logins, r.feature_events, r.features_used) for k, r in got.items()
    }
    assert figures == {("a", d1): (2, 1, 1, 1), ("b", d1): (1, 0, 1, 1), ("a", d0): (1, 1, 0, 0)}
    assert [q.external_id for p in pages for q in p.rejected] == ["i-bad"]
    assert json.loads(pages[-1].cursor) == {"from": {"date": str(d1)}}
    insert(
        engine, EVENTS, [dict(zip(keys, ("b", at(d1, 20), "u9", "export", "x", "i9"), strict=True))]
    )
    again = {
        (r.workspace_id, r.day): r for r in _records(list(c.pull("daily_usage", pages[-1].cursor)))
    }
    assert again[("b", d1)].active_users == 2 and again[("a", d0)].logins == 1


def test_a_missing_table_is_fatal(wh) -> None:
    url, _ = wh
    c = connector(url, daily_usage={"table": "no_such_table", "columns": DAILY_COLUMNS})
    with pytest.raises(Fatal):
        list(c.pull("daily_usage", None))
    assert c.calls == 1  # not retried
