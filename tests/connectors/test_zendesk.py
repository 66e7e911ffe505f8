"""Zendesk through the real zenpy client's session against a scripted fake API."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from connectors.errors import Fatal
from connectors.http import RetryPolicy
from connectors.zendesk import ZendeskConnector
from connectors.zendesk_records import OrgUpdate, TicketCreate
from connectors.zendesk_transport import WindowLimiter
from connectors.zendesk_write import comment_marker
from tests.connectors.conftest import fake_zenpy

BASE = "https://acme.zendesk.com/api/v2"
Reply = tuple[int, Any, dict[str, str]]


class Routes:
    """(method, path) -> list of replies served in order (the last one repeats)."""

    def __init__(self) -> None:
        self.replies: dict[tuple[str, str], list[Reply | Callable[[Any], Reply]]] = {}
        self.seen: list[requests.PreparedRequest] = []

    def add(self, method: str, path: str, *replies: Reply | Callable[[Any], Reply]) -> None:
        self.replies.setdefault((method, path), []).extend(replies)

    def __call__(self, request: requests.PreparedRequest) -> Reply:
        self.seen.append(request)
        path = urlsplit(request.url or "").path.removeprefix("/api/v2/")
        queue = self.replies.get((request.method or "", path))
        if not queue:
            return 404, {"error": "RecordNotFound", "description": path}, {}
        reply = queue.pop(0) if len(queue) > 1 else queue[0]
        return reply(request) if callable(reply) else reply

    def params(self, i: int) -> dict[str, list[str]]:
        return parse_qs(urlsplit(self.seen[i].url or "").query)


def ticket(n: int, updated: str = "2024-01-02T00:00:00Z", **extra: Any) -> dict[str, Any]:
    return {
        "id": n,
        "subject": f"T{n}",
        "status": "open",
        "priority": "high",
        "tags": ["a"],
        "organization_id": 77,
        "created_at": "2024-01-01T00:00:00Z",
        "updated_at": updated,
        **extra,
    }


@pytest.fixture
def routes() -> Routes:
    return Routes()


def make(routes: Routes, policy: RetryPolicy, **kwargs: Any) -> ZendeskConnector:
    zenpy, _ = fake_zenpy(routes)
    return ZendeskConnector(zenpy, policy=policy, **kwargs)


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


def test_tags_added_and_removed_without_overwriting(routes: Routes, policy) -> None:
    routes.add("PUT", "tickets/5/tags.json", (200, {"tags": ["a", "health_red"]}, {}))
    routes.add("DELETE", "tickets/5/tags.json", (200, {"tags": ["a"]}, {}))
    zd = make(routes, policy, allowed_tags=["health_red", "health_green"])
    assert zd.add_ticket_tags(5, ["health_red"]).ok
    assert zd.remove_ticket_tags(5, ["health_red"]).ok
    assert [r.method for r in routes.seen] == ["PUT", "DELETE"]
    assert all(json.loads(r.body or b"") == {"tags": ["health_red"]} for r in routes.seen)
    refused = zd.add_ticket_tags(5, ["vip"])
    assert not refused.ok and refused.error_code == "TAG_NOT_ALLOWED" and len(routes.seen) == 2


def test_update_many_in_100s_with_job_polling(routes: Routes, policy) -> None:
    jobs: dict[str, list[dict[str, Any]]] = {}  # job id -> the statuses its polls see, in order

    def queued(request: Any) -> Reply:
        ids = [o["id"] for o in json.loads(request.body)["organizations"]]
        job_id = f"J{ids[0]}"
        results = [{"id": i, "success": i != 7, "status": "Updated" if i != 7 else "Failed",
                    **({"details": "Organization field invalid"} if i == 7 else {})} for i in ids]  # fmt: skip
        jobs[job_id] = [{"id": job_id, "status": "working"},
                        {"id": job_id, "status": "completed", "results": results}]  # fmt: skip
        return 200, {"job_status": {"id": job_id, "status": "queued", "url": None}}, {}

    def show_many(request: Any) -> Reply:
        asked = parse_qs(urlsplit(request.url).query)["ids"][0].split(",")
        seen = [jobs[j].pop(0) if len(jobs[j]) > 1 else jobs[j][0] for j in asked]
        return 200, {"job_statuses": seen}, {}

    routes.add("PUT", "organizations/update_many.json", queued)
    routes.add("GET", "job_statuses/show_many.json", show_many)
    updates = [OrgUpdate(id=n, fields={"health_status": "red"}) for n in range(150)]
    updates.append(OrgUpdate(id=999, fields={"secret_field": 1}))
    results = make(routes, policy).update_organizations(updates)
    puts = [r for r in routes.seen if r.method == "PUT"]
    assert [len(json.loads(r.body)["organizations"]) for r in puts] == [100, 50]
    polls = [r for r in routes.seen if r.method == "GET"]
    assert len(polls) == 2, "one show_many per round for both jobs, not one request per job"
    assert parse_qs(urlsplit(polls[0].url or "").query)["ids"] == ["J0,J100"]
    assert [r.target_id for r in results] == [str(u.id) for u in updates]
    assert [r.ok for r in results].count(False) == 2
    assert results[7].message == "Organization field invalid" and not results[7].retriable
    assert results[-1].error_code == "FIELD_NOT_WRITABLE"


def test_a_job_missing_from_show_many_is_reported_still_pending(routes: Routes, policy) -> None:
    routes.add("PUT", "organizations/update_many.json",
               (200, {"job_status": {"id": "J1", "status": "queued"}}, {}))  # fmt: skip
    routes.add("GET", "job_statuses/show_many.json", (200, {"job_statuses": []}, {}))
    zd = make(routes, policy)
    zd._writer.max_polls = 3
    [result] = zd.update_organizations([OrgUpdate(id=1, fields={"health_status": "red"})])
    assert not result.ok and result.retriable and result.error_code == "JOB_PENDING"
    assert len([r for r in routes.seen if r.method == "GET"]) == 3


def test_create_ticket_sends_idempotency_key_and_survives_a_503(routes: Routes, policy) -> None:
    created = (201, {"ticket": {"id": 4242}, "audit": {}}, {"x-idempotency-lookup": "miss"})
    routes.add("GET", "tickets.json", (200, {"tickets": []}, {}))
    routes.add("POST", "tickets.json", (503, {"error": "unavailable"}, {}), created)
    spec = TicketCreate(
        subject="Escalation", body="Usage fell", tags=["pulsehub"], external_id="esc-1"
    )
    result = make(routes, policy).create_ticket(spec, idempotency_key="esc-1-key")
    assert result.ok and result.created_id == "4242"
    posts = [r for r in routes.seen if r.method == "POST"]
    assert len(posts) == 2 and {r.headers["Idempotency-Key"] for r in posts} == {"esc-1-key"}
    body = json.loads(posts[0].body or b"")["ticket"]
    assert body["external_id"] == "esc-1" and body["comment"] == {"body": "Usage fell"}


def test_create_ticket_finds_existing_by_external_id(routes: Routes, policy) -> None:
    routes.add("GET", "tickets.json", (200, {"tickets": [{"id": 17, "external_id": "esc-1"}]}, {}))
    spec = TicketCreate(subject="s", body="b", external_id="esc-1")
    result = make(routes, policy).create_ticket(spec, idempotency_key="k")
    assert result.ok and result.created_id == "17"
    assert [r.method for r in routes.seen] == ["GET"]


def test_idempotency_conflict_is_fatal(routes: Routes, policy) -> None:
    routes.add("GET", "tickets.json", (200, {"tickets": []}, {}))
    routes.add("POST", "tickets.json", (400, {"error": "IdempotentRequestError"}, {}))
    result = make(routes, policy).create_ticket(
        TicketCreate(subject="s", body="b", external_id="x"), idempotency_key="k"
    )
    assert not result.ok and not result.retriable and result.error_code == "IdempotentRequestError"


def _comment_put(request: requests.PreparedRequest) -> dict[str, Any]:
    return json.loads(request.body or b"")["ticket"]["comment"]


def test_first_comment_is_one_put_ending_in_its_key_marker(routes: Routes, policy) -> None:
    routes.add("PUT", "tickets/9.json", (200, {"ticket": {"id": 9}, "audit": {}}, {}))
    result = make(routes, policy).comment_on_ticket(9, "Usage fell 60%", key="esc:a#1:comment")
    assert result.ok and [r.method for r in routes.seen] == ["PUT"]
    body = _comment_put(routes.seen[0])["body"]
    assert body == f"Usage fell 60%\n\n{comment_marker('esc:a#1:comment')}"
    assert comment_marker("esc:a#1:comment") != comment_marker("esc:a#2:comment")


def test_a_retried_comment_already_posted_is_not_sent_again(routes: Routes, policy) -> None:
    marker = comment_marker("esc:a#1:comment")
    posted = {"id": 3, "body": f"Usage fell\n\n{marker}", "public": False}
    routes.add("GET", "tickets/9/comments.json", (200, {"comments": [posted]}, {}))
    result = make(routes, policy).comment_on_ticket(
        9, "Usage fell", key="esc:a#1:comment", maybe_sent=True
    )
    assert result.ok and [r.method for r in routes.seen] == ["GET"]
    assert routes.params(0) == {"page[size]": ["100"], "sort": ["-created_at"]}


def test_a_retried_comment_not_found_is_sent(routes: Routes, policy) -> None:
    other = {"id": 3, "body": f"older\n\n{comment_marker('esc:a#0:comment')}"}
    routes.add("GET", "tickets/9/comments.json", (200, {"comments": [other]}, {}))
    routes.add("PUT", "tickets/9.json", (200, {"ticket": {"id": 9}, "audit": {}}, {}))
    result = make(routes, policy).comment_on_ticket(
        9, "Usage fell", key="esc:a#1:comment", maybe_sent=True
    )
    assert result.ok and [r.method for r in routes.seen] == ["GET", "PUT"]


@pytest.mark.parametrize(
    ("status", "retriable"), [(503, True), (500, True), (404, False), (400, False)]
)
def test_comment_lookup_errors_are_classified_and_nothing_is_sent(
    routes: Routes, policy, status: int, retriable: bool
) -> None:
    routes.add("GET", "tickets/9/comments.json", (status, {"error": "nope"}, {}))
    result = make(routes, policy).comment_on_ticket(9, "x", key="k", maybe_sent=True)
    assert not result.ok and result.retriable is retriable
    assert {r.method for r in routes.seen} == {"GET"}
