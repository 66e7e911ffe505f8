"""The usage connector against respx-mocked endpoints: pages, cursors, NDJSON export."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator

import httpx
import pytest
import respx

from connectors.errors import AuthError, Fatal
from connectors.http import RetryPolicy
from connectors.usage import UsageConnector, rollup_events
from connectors.usage_records import UsageEvent

BASE = "https://usage.test"


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=BASE, assert_all_called=False) as router:
        yield router


@pytest.fixture
def usage(policy: RetryPolicy) -> UsageConnector:
    client = httpx.Client(base_url=BASE, headers={"Authorization": "Bearer T"})
    return UsageConnector(client, page_size=2, lookback_days=2, policy=policy)


def day(ws: str, date: str, users: int = 3) -> dict[str, object]:
    return {"workspace_id": ws, "date": date, "active_users": users, "logins": 5,
            "feature_events": 9, "features_used": 2, "seats_used": 4, "seats_purchased": 10}  # fmt: skip


def test_daily_pages_follow_next_cursor_and_restart_with_lookback(api, usage) -> None:
    route = api.get("/usage/v1/daily").mock(
        side_effect=[
            httpx.Response(200, json={"data": [day("w1", "2024-03-01"), day("w2", "2024-03-02")],
                                      "meta": {"has_more": True, "next_cursor": "N1"}}),
            httpx.Response(200, json={"data": [day("w1", "2024-03-05")],
                                      "meta": {"has_more": False, "next_cursor": None}}),
        ]
    )  # fmt: skip
    pages = list(usage.pull("daily_usage", None, start=dt.datetime(2024, 3, 1, tzinfo=dt.UTC)))
    assert [len(p.records) for p in pages] == [2, 1]
    assert pages[0].records[0].day == dt.date(2024, 3, 1) and pages[0].records[0].seats_used == 4
    first, second = (c.request.url.params for c in route.calls)
    assert first["start_date"] == "2024-03-01" and first["limit"] == "2"
    assert second["cursor"] == "N1"
    assert json.loads(pages[0].cursor or "")["after"] == "N1"
    assert json.loads(pages[1].cursor or "") == {"start_date": "2024-03-03"}  # newest - 2 days


def test_resume_mid_stream_from_the_saved_cursor(api, usage) -> None:
    route = api.get("/usage/v1/daily").mock(
        return_value=httpx.Response(200, json={"data": [], "meta": {"has_more": False}})
    )
    cursor = json.dumps({"start_date": "2024-03-01", "after": "N7", "max_day": "2024-03-04"})
    [page] = list(usage.pull("daily_usage", cursor))
    assert route.calls[0].request.url.params["cursor"] == "N7"
    assert json.loads(page.cursor or "") == {"start_date": "2024-03-02"}


def test_bad_row_is_quarantined_and_the_stream_continues(api, usage) -> None:
    api.get("/usage/v1/workspaces").mock(
        return_value=httpx.Response(
            200,
            json={"data": [{"id": "w1", "name": "Acme", "salesforce_account_id": "001A"},
                           {"name": "no id"}], "meta": {"has_more": False}},
        )
    )  # fmt: skip
    [page] = list(usage.pull("workspaces", None))
    assert [(w.id, w.crm_account_id) for w in page.records] == [("w1", "001A")]
    assert page.rejected[0].stream == "workspaces" and "id" in page.rejected[0].reason


@pytest.mark.parametrize(
    ("responses", "outcome"),
    [
        (
            [
                httpx.Response(429, headers={"Retry-After": "3"}),
                httpx.Response(200, json={"data": []}),
            ],
            3.0,
        ),
        ([httpx.Response(503), httpx.Response(200, json={"data": []})], "backoff"),
        ([httpx.ReadTimeout("slow"), httpx.Response(200, json={"data": []})], "backoff"),
        ([httpx.Response(400, json={"error": "bad start_date"})], Fatal),
        ([httpx.Response(401, json={"error": "unauthorized"})], AuthError),
    ],
)
def test_usage_errors_follow_the_policy(api, usage, sleeps, responses, outcome) -> None:
    route = api.get("/usage/v1/workspaces").mock(side_effect=responses)
    if isinstance(outcome, type):
        with pytest.raises(outcome):
            list(usage.pull("workspaces", None))
        assert route.call_count == 1, "never retried"
        return
    list(usage.pull("workspaces", None))
    assert route.call_count == 2
    expected_sleeps = [3.0] if outcome == 3.0 else sleeps[:1]
    assert sleeps == expected_sleeps and len(sleeps) == 1


def _ndjson(events: list[dict[str, object]]) -> Iterator[bytes]:
    for e in events:
        yield (json.dumps(e) + "\n").encode()
    yield b"not json\n"


def test_export_streams_ndjson_and_rolls_up(api, policy) -> None:
    t = int(dt.datetime(2024, 3, 1, 10, tzinfo=dt.UTC).timestamp())

    def ev(
        name: str, user: str, insert: str, feature: str | None = None, at: int = t
    ) -> dict[str, object]:
        props = {"time": at, "distinct_id": user, "$insert_id": insert, "workspace_id": "w1"}
        return {"event": name, "properties": props | ({"feature": feature} if feature else {})}

    events = [
        ev("login", "u1", "i1"),
        ev("login", "u1", "i1"),  # exported twice: deduplicated on $insert_id
        ev("login", "u2", "i2"),
        ev("feature_used", "u1", "i3", "reports"),
        ev("feature_used", "u2", "i4", "alerts"),
        ev("feature_used", "u2", "i5", "alerts", at=t + 86400),
    ]
    route = api.get("/api/2.0/export").mock(
        return_value=httpx.Response(200, stream=httpx.ByteStream(b"".join(_ndjson(events))))
    )
    client = httpx.Client(base_url=BASE)
    usage = UsageConnector(client, export_auth=httpx.BasicAuth("SECRET", ""), policy=policy)
    stream = usage.export_events(dt.date(2024, 3, 1), dt.date(2024, 3, 2))
    assert route.call_count == 0, "lazy: nothing is fetched before iteration"
    got = list(stream)
    assert all(isinstance(e, UsageEvent) for e in got) and len(got) == 6
    request = route.calls[0].request
    assert request.url.params["from_date"] == "2024-03-01"
    assert request.headers["Authorization"].startswith("Basic ")
    days = rollup_events(got)
    assert [(d.day.isoformat(), d.active_users, d.logins, d.feature_events, d.features_used)
            for d in days] == [("2024-03-01", 2, 2, 2, 2), ("2024-03-02", 1, 0, 1, 1)]  # fmt: skip


def test_first_sync_without_start_asks_for_a_year(api, usage) -> None:
    route = api.get("/usage/v1/daily").mock(
        return_value=httpx.Response(200, json={"data": [], "meta": {"has_more": False}})
    )
    [page] = list(usage.pull("daily_usage", None))
    asked = dt.date.fromisoformat(route.calls[0].request.url.params["start_date"])
    assert 364 <= (dt.datetime.now(dt.UTC).date() - asked).days <= 366
    assert json.loads(page.cursor or "") == {"start_date": asked.isoformat()}, "kept when empty"


def test_export_waits_out_a_429_before_streaming(api, policy, sleeps) -> None:
    line = json.dumps({"event": "login", "properties": {"time": 1709287200, "distinct_id": "u",
                       "$insert_id": "i", "workspace_id": "w1"}}).encode() + b"\n"  # fmt: skip
    api.get("/api/2.0/export").mock(
        side_effect=[
            httpx.Response(429, headers={"Retry-After": "60"}, json={"error": "rate limited"}),
            httpx.Response(200, stream=httpx.ByteStream(line)),
        ]
    )
    usage = UsageConnector(httpx.Client(base_url=BASE), policy=policy)
    events = list(usage.export_events(dt.date(2024, 3, 1), dt.date(2024, 3, 1)))
    assert [e.workspace_id for e in events] == ["w1"] and sleeps == [60.0]
    assert usage.rollup_events(events)[0].logins == 1
