"""The usage API: cursor-paged workspaces and daily rows, streamed NDJSON export."""

from __future__ import annotations

import datetime as dt
import json

import httpx

from sandbox import Sandbox
from sandbox import credentials as cred
from sandbox.usage import has_row
from tests.sandbox.conftest import NOW


def test_daily_rows_page_in_date_then_workspace_order(sb: Sandbox) -> None:
    auth = {"Authorization": f"Bearer {cred.USAGE_BEARER_TOKEN}"}
    rows, cursor = [], None
    with httpx.Client(base_url=sb.base_url, headers=auth) as client:
        while True:
            params = {"start_date": "2025-05-25", "end_date": "2025-06-02", "limit": 50}
            if cursor:
                params["cursor"] = cursor
            body = client.get("/usage/v1/daily", params=params).json()
            rows.extend(body["data"])
            if not body["meta"]["has_more"]:
                break
            cursor = body["meta"]["next_cursor"]
        assert (
            client.get(
                "/usage/v1/daily",
                params={"start_date": "2025-06-01"},
                headers={"Authorization": "Bearer wrong"},
            ).status_code
            == 401
        )
    keys = [(r["date"], r["workspace_id"]) for r in rows]
    assert keys == sorted(keys) and len(set(keys)) == len(keys)
    first = dt.date(2025, 5, 25).toordinal()
    expected = sum(
        has_row(sb.world, w, d, NOW.date().toordinal())
        for w in sb.world.workspaces
        for d in range(first, first + 9)
    )
    assert len(rows) == expected >= 8 * len(sb.world.workspaces), "one row a day from its start"
    today = [r for r in rows if r["date"] == "2025-06-02"]
    full = [r for r in rows if r["date"] == "2025-05-26"]
    assert sum(r["logins"] for r in today) < sum(r["logins"] for r in full)


def test_export_streams_ndjson_events(sb: Sandbox) -> None:
    with (
        httpx.Client(base_url=sb.base_url, auth=(cred.USAGE_EXPORT_SECRET, "")) as client,
        client.stream(
            "GET", "/api/2.0/export", params={"from_date": "2025-05-26", "to_date": "2025-05-26"}
        ) as resp,
    ):
        assert resp.headers["transfer-encoding"] == "chunked"
        events = [json.loads(line) for line in resp.iter_lines() if line]
    assert {e["event"] for e in events} == {"login", "feature_used"}
    props = events[0]["properties"]
    assert {"time", "distinct_id", "$insert_id", "workspace_id"} <= set(props)
    ids = {w.id for w in sb.world.workspaces}
    assert {e["properties"]["workspace_id"] for e in events} <= ids


def test_export_and_daily_rows_tell_the_same_story(sb: Sandbox) -> None:
    day = "2025-05-28"
    auth = {"Authorization": f"Bearer {cred.USAGE_BEARER_TOKEN}"}
    with httpx.Client(base_url=sb.base_url, headers=auth) as client:
        rows = client.get(
            "/usage/v1/daily", params={"start_date": day, "end_date": day, "limit": 1000}
        ).json()["data"]
    with httpx.Client(base_url=sb.base_url, auth=(cred.USAGE_EXPORT_SECRET, "")) as client:
        lines = client.get("/api/2.0/export", params={"from_date": day, "to_date": day}).text
    events = [json.loads(x) for x in lines.splitlines()]
    per_ws: dict[tuple[str, str], int] = {}
    for e in events:
        key = (e["properties"]["workspace_id"], e["event"])
        per_ws[key] = per_ws.get(key, 0) + 1
    for r in rows:
        assert per_ws.get((r["workspace_id"], "login"), 0) == r["logins"]
        assert per_ws.get((r["workspace_id"], "feature_used"), 0) == r["feature_events"]
        users = {
            e["properties"]["distinct_id"]
            for e in events
            if e["properties"]["workspace_id"] == r["workspace_id"]
        }
        assert len(users) <= r["active_users"]
    start = int(dt.datetime(2025, 5, 28, tzinfo=dt.UTC).timestamp())
    assert all(start <= e["properties"]["time"] < start + 86400 for e in events)
