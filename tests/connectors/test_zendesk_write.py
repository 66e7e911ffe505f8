"""Zendesk writes (tags, organization fields, tickets, comments) through the real zenpy client."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from connectors.zendesk_records import OrgUpdate, TicketCreate
from connectors.zendesk_write import comment_marker
from tests.connectors.zendesk_api import Reply, Routes, make


@pytest.fixture
def routes() -> Routes:
    return Routes()


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
