"""Zendesk pulls and rate limits through the real zenpy client against a scripted fake API."""

from __future__ import annotations

import json

import pytest

from connectors.errors import Fatal
from connectors.zendesk_transport import WindowLimiter
from tests.connectors.zendesk_api import BASE, Routes, make, ticket


@pytest.fixture
def routes() -> Routes:
    return Routes()


def test_ticket_export_pages_dedupe_deletes_and_cursor(routes: Routes, policy) -> None:
    after = f"{BASE}/incremental/tickets/cursor.json?cursor=C1"
    routes.add(
        "GET",
        "incremental/tickets/cursor.json",
        (200, {"tickets": [ticket(1), ticket(2)], "after_url": after, "after_cursor": "C1",
               "end_of_stream": False}, {}),
        (200, {"tickets": [ticket(2), ticket(3, status="deleted"), {"id": 4}],
               "after_url": None, "after_cursor": "C2", "end_of_stream": True}, {}),
    )  # fmt: skip
    pages = list(make(routes, policy).pull("tickets", None))
    assert [p.cursor for p in pages] == ["C1", "C2"]
    assert [[t.id for t in p.records] for p in pages] == [[1, 2], [3]], "repeated item dropped"
    assert pages[1].records[0].status == "deleted"
    assert pages[1].rejected[0].external_id == "4" and pages[1].rejected[0].source == "zendesk"
    assert routes.params(0)["start_time"] == ["0"] and routes.params(1)["cursor"] == ["C1"]


def test_a_failed_next_page_surfaces_after_the_page_before_it(routes: Routes, policy) -> None:
    """Page 2 is requested ahead, while page 1 is stored; its error still comes after page 1."""
    after = f"{BASE}/incremental/tickets/cursor.json?cursor=C1"
    routes.add(
        "GET",
        "incremental/tickets/cursor.json",
        (200, {"tickets": [ticket(1)], "after_url": after, "after_cursor": "C1",
               "end_of_stream": False}, {}),
        (400, {"error": "InvalidPaginationParameter", "description": "bad cursor"}, {}),
    )  # fmt: skip
    pages = make(routes, policy).pull("tickets", None)
    first = next(pages)
    assert [t.id for t in first.records] == [1] and first.cursor == "C1"
    with pytest.raises(Fatal):
        next(pages)
    assert len(routes.seen) == 2, "a 400 is not retried, and nothing is requested past it"


def test_ticket_export_resumes_from_saved_cursor(routes: Routes, policy) -> None:
    routes.add(
        "GET",
        "incremental/tickets/cursor.json",
        (200, {"tickets": [ticket(9)], "after_cursor": "C9", "end_of_stream": True}, {}),
    )
    [page] = list(make(routes, policy).pull("tickets", "C5"))
    assert routes.params(0)["cursor"] == ["C5"] and "start_time" not in routes.params(0)
    assert page.cursor == "C9"


def test_429_retry_after_is_waited_out(routes: Routes, policy, sleeps) -> None:
    routes.add(
        "GET",
        "incremental/users/cursor.json",
        (429, {"error": "TooManyRequests"}, {"Retry-After": "7"}),
        (200, {"users": [{"id": 5, "updated_at": "2024-01-01T00:00:00Z"}],
               "after_cursor": "U1", "end_of_stream": True}, {}),
    )  # fmt: skip
    [page] = list(make(routes, policy).pull("users", None))
    assert [u.id for u in page.records] == [5] and 7.0 in sleeps


def test_spent_rate_budget_holds_the_next_call(routes: Routes, policy, sleeps) -> None:
    spent = {"x-rate-limit-remaining": "0", "ratelimit-reset": "12"}
    routes.add("PUT", "tickets/5/tags.json", (200, {"tags": ["x"]}, spent))
    routes.add("DELETE", "tickets/5/tags.json", (200, {"tags": []}, {}))
    zd = make(routes, policy)
    assert zd.add_ticket_tags(5, ["x"]).ok and sleeps == []
    assert zd.remove_ticket_tags(5, ["x"]).ok
    assert len(sleeps) == 1 and 11 < sleeps[0] <= 12


def test_export_limit_of_10_per_minute(routes: Routes, policy, sleeps) -> None:
    clock = [0.0]
    limiter = WindowLimiter(10, 60.0, clock=lambda: clock[0], sleep=sleeps)
    pages = [
        (200, {"tickets": [ticket(n)], "after_url": f"{BASE}/incremental/tickets/cursor.json?"
               f"cursor=C{n}", "after_cursor": f"C{n}", "end_of_stream": n == 12}, {})
        for n in range(1, 13)
    ]  # fmt: skip
    routes.add("GET", "incremental/tickets/cursor.json", *pages)
    out = list(make(routes, policy, export_limiter=limiter).pull("tickets", None))
    assert len(out) == 12 and sleeps == [60.0, 60.0]  # calls 11 and 12 wait for the window


def test_organizations_time_export_uses_end_time(routes: Routes, policy) -> None:
    org = {"id": 77, "name": "Acme", "external_id": "001A", "domain_names": ["acme.com"],
           "organization_fields": {"health_status": "green"}, "updated_at": "2024-01-01T00:00:00Z"}  # fmt: skip
    routes.add(
        "GET",
        "incremental/organizations.json",
        (200, {"organizations": [org], "end_time": 1704067200, "end_of_stream": True,
               "next_page": None, "count": 1}, {}),
    )  # fmt: skip
    [page] = list(make(routes, policy).pull("organizations", "1700000000"))
    assert page.cursor == "1704067200" and page.records[0].domain_names == ["acme.com"]
    assert routes.params(0)["start_time"] == ["1700000000"]


def test_ticket_metrics_list_cursor_and_minutes(routes: Routes, policy) -> None:
    metric = {"ticket_id": 1, "reply_time_in_minutes": {"calendar": 30, "business": 10},
              "full_resolution_time_in_minutes": {"calendar": 600, "business": 100},
              "reopens": 1, "replies": 3, "updated_at": "2024-01-02T00:00:00Z"}  # fmt: skip
    routes.add(
        "GET",
        "ticket_metrics.json",
        (200, {"ticket_metrics": [metric], "meta": {"has_more": True, "after_cursor": "M1"},
               "links": {"next": f"{BASE}/ticket_metrics.json?page[after]=M1"}}, {}),
        (200, {"ticket_metrics": [metric | {"ticket_id": 2}], "meta": {"has_more": False},
               "links": {"next": None}}, {}),
    )  # fmt: skip
    now = [1_700_000_000.0]
    zd = make(routes, policy, clock=lambda: now[0])
    pages = list(zd.pull("ticket_metrics", None))
    first = pages[0].records[0]
    assert (first.reply_time_minutes, first.full_resolution_minutes) == (30, 600)
    assert json.loads(pages[0].cursor or "")["after"] == "M1"
    last = json.loads(pages[1].cursor or "")
    assert last["after"] is None and last["done_at"] == 1_700_000_000
    now[0] += 3600
    assert list(zd.pull("ticket_metrics", pages[1].cursor)) == [], "re-listed at most every 6h"
    now[0] += 6 * 3600
    assert len(list(zd.pull("ticket_metrics", pages[1].cursor))) == 1


def test_satisfaction_ratings_move_their_start_time(routes: Routes, policy) -> None:
    rating = {"id": 3, "ticket_id": 1, "score": "bad", "created_at": "2024-01-01T00:00:00Z",
              "updated_at": "2024-01-05T00:00:00Z"}  # fmt: skip
    routes.add(
        "GET",
        "satisfaction_ratings.json",
        (200, {"satisfaction_ratings": [rating], "meta": {"has_more": False}}, {}),
    )
    [page] = list(make(routes, policy).pull("satisfaction_ratings", None))
    assert page.records[0].score == "bad"
    assert json.loads(page.cursor or "")["since"] == 1704412800
