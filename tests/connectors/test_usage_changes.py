"""The usage change cursor: `updated_since` / `meta.updated_until`, against respx and the sandbox.

A late row for an old day (far beyond any look-back window) must still arrive, and a pull
with nothing changed must cost one request per stream.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator

import httpx
import pytest
import respx
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from connectors.usage import UsageConnector
from model.tables import UsageDaily
from sandbox import Sandbox
from sync.pull import pull_stream
from tests.connectors.conftest import sandbox_usage

BASE = "https://usage.test"
T1, T2 = "2024-03-05T10:00:00Z", "2024-03-05T11:00:00Z"
NOW = dt.datetime(2025, 6, 2, 15, 30, tzinfo=dt.UTC)  # mid-hour: no hourly refresh mid-test


def day(ws: str, date: str, logins: int = 5) -> dict[str, object]:
    return {"workspace_id": ws, "date": date, "active_users": 3, "logins": logins,
            "feature_events": 9, "features_used": 2, "updated_at": T1}  # fmt: skip


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=BASE, assert_all_called=False) as router:
        yield router


@pytest.fixture
def usage(policy) -> UsageConnector:
    client = httpx.Client(base_url=BASE, headers={"Authorization": "Bearer T"})
    return UsageConnector(client, page_size=2, policy=policy)


def test_a_listing_with_a_watermark_continues_from_it(api, usage) -> None:
    route = api.get("/usage/v1/daily").mock(
        side_effect=[
            httpx.Response(200, json={"data": [day("w1", "2024-03-01"), day("w2", "2024-03-01")],
                                      "meta": {"has_more": True, "next_cursor": "N1",
                                               "updated_until": T1}}),
            httpx.Response(200, json={"data": [day("w1", "2024-03-02")],
                                      "meta": {"has_more": False, "updated_until": T1}}),
            httpx.Response(200, json={"data": [day("w2", "2023-11-20", logins=7)],
                                      "meta": {"has_more": False, "updated_until": T2}}),
        ]
    )  # fmt: skip
    start = dt.datetime(2024, 3, 1, tzinfo=dt.UTC)
    first = list(usage.pull("daily_usage", None, start=start))
    assert json.loads(first[0].cursor or "")["until"] == T1, "mid-listing: the watermark waits"
    assert json.loads(first[-1].cursor or "") == {"updated_since": T1}
    [late] = list(usage.pull("daily_usage", first[-1].cursor, start=start))
    asked = route.calls[2].request.url.params
    assert asked["updated_since"] == T1 and "start_date" not in asked, "any day may change"
    assert [(r.day, r.logins) for r in late.records] == [(dt.date(2023, 11, 20), 7)]
    assert json.loads(late.cursor or "") == {"updated_since": T2}


def test_resuming_mid_listing_keeps_the_first_pages_watermark(api, usage) -> None:
    route = api.get("/usage/v1/workspaces").mock(
        return_value=httpx.Response(
            200, json={"data": [], "meta": {"has_more": False, "updated_until": T2}}
        )
    )
    cursor = json.dumps({"updated_since": T1, "after": "N4", "until": T1})
    [page] = list(usage.pull("workspaces", cursor))
    params = route.calls[0].request.url.params
    assert params["updated_since"] == T1 and params["cursor"] == "N4"
    assert json.loads(page.cursor or "") == {"updated_since": T1}, "not the later page's T2"


def test_an_api_without_a_watermark_keeps_the_look_back(api, usage) -> None:
    api.get("/usage/v1/daily").mock(
        return_value=httpx.Response(
            200, json={"data": [day("w1", "2024-03-09")], "meta": {"has_more": False}}
        )
    )
    [page] = list(usage.pull("daily_usage", None, start=dt.datetime(2024, 3, 1, tzinfo=dt.UTC)))
    assert json.loads(page.cursor or "") == {"start_date": "2024-03-06"}


# -- against the sandbox -------------------------------------------------------------------


@pytest.fixture
def sb() -> Iterator[Sandbox]:
    with Sandbox(accounts=30, seed=7, now=NOW) as sandbox:
        yield sandbox


def _pull_all(factory: sessionmaker[Session], conn: UsageConnector) -> None:
    start = NOW - dt.timedelta(days=90)
    for stream in ("workspaces", "daily_usage"):
        pull_stream(factory, conn, stream, start=start if stream == "daily_usage" else None)


def test_a_late_row_for_an_old_day_is_still_pulled(sb, factory, policy) -> None:
    conn = UsageConnector(sandbox_usage(sb.base_url), page_size=500, policy=policy)
    _pull_all(factory, conn)
    ws = next(
        w
        for w in sb.world.workspaces
        if (row := _row(factory, w.id, NOW.date() - dt.timedelta(days=40))) and row.active_users
    )
    old_day = NOW.date() - dt.timedelta(days=40)  # far beyond the 3-day look-back
    before = _row(factory, ws.id, old_day)
    assert before is not None
    sb.tick(5)
    sb.world.usage_revisions[(ws.id, old_day.toordinal())] = (sb.world.clock.epoch(), 4)
    sb.tick(2)
    sb.clear_log()
    _pull_all(factory, conn)
    after = _row(factory, ws.id, old_day)
    assert after is not None and after.logins == before.logins + 4
    assert after.feature_events == before.feature_events + 8
    daily = [r for r in sb.requests if r["path"] == "/usage/v1/daily"]
    assert len(daily) == 1 and "updated_since" in daily[0]["query"]
    assert "start_date" not in daily[0]["query"]


def test_a_pull_with_nothing_changed_is_one_request_per_stream(sb, factory, policy) -> None:
    conn = UsageConnector(sandbox_usage(sb.base_url), page_size=100, policy=policy)
    _pull_all(factory, conn)
    sb.tick(2)
    sb.clear_log()
    calls = conn.calls
    _pull_all(factory, conn)
    assert conn.calls - calls == 2 == len(sb.requests)
    assert all(r["status"] == 200 for r in sb.requests)


def test_the_hourly_refresh_and_a_closed_day_come_again(sb, factory, policy) -> None:
    conn = UsageConnector(sandbox_usage(sb.base_url), page_size=1000, policy=policy)
    _pull_all(factory, conn)
    today = NOW.date()
    ws = next(w for w in sb.world.workspaces if (r := _row(factory, w.id, today)) and r.logins)
    partial = _row(factory, ws.id, today)
    assert partial is not None
    sb.tick(9 * 3600)  # 00:30 the next day: today's row is now a whole day's
    _pull_all(factory, conn)
    whole = _row(factory, ws.id, today)
    assert whole is not None and whole.logins > partial.logins


def _row(factory: sessionmaker[Session], ws: str, day: dt.date) -> UsageDaily | None:
    with factory() as s:
        return s.scalars(
            select(UsageDaily).where(UsageDaily.workspace_id == ws, UsageDaily.day == day)
        ).first()
