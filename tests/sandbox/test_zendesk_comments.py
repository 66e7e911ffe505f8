"""Ticket comments in the Zendesk simulator: stored from ticket updates, listed and paged."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from sandbox import Sandbox
from sandbox import credentials as cred
from sandbox.tickets import DELETED
from tests.sandbox.conftest import zenpy_client

ZD_AUTH = (f"{cred.ZD_EMAIL}/token", cred.ZD_API_TOKEN)


def _live_ticket(box: Sandbox) -> int:
    t = box.world.tickets
    return next(p + 1 for p in range(len(t)) if t.status[p] != DELETED)


def _comment(client: httpx.Client, tid: int, body: str, public: bool = False) -> None:
    resp = client.put(
        f"/api/v2/tickets/{tid}.json",
        json={"ticket": {"comment": {"body": body, "public": public}}},
    )
    assert resp.status_code == 200, resp.text


def _all_pages(client: httpx.Client, url: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    """Follow `links.next` (cursor pages) to the end."""
    out: list[dict[str, Any]] = []
    page = client.get(url, params=params).json()
    while True:
        out += page["comments"]
        if not page["meta"]["has_more"]:
            return out
        page = client.get(page["links"]["next"]).json()


def test_comments_are_listed_with_body_public_author_and_time(fresh: Sandbox) -> None:
    tid = _live_ticket(fresh)
    with httpx.Client(base_url=fresh.base_url, auth=ZD_AUTH) as client:
        _comment(client, tid, "first note")
        fresh.tick(5)
        _comment(client, tid, "a public reply", public=True)
        listing = client.get(f"/api/v2/tickets/{tid}/comments.json").json()
    first, note, reply = listing["comments"]
    description = fresh.world.tickets.extra.get(tid - 1, {}).get("description")
    assert first["public"] is True and (description is None or first["body"] == description)
    assert (note["body"], note["public"], note["author_id"]) == (
        "first note",
        False,
        fresh.world.agents[0],
    )
    assert reply["body"] == reply["plain_body"] == "a public reply" and reply["public"] is True
    assert note["created_at"] < reply["created_at"] and note["ticket_id"] == tid
    assert listing["count"] == 3 and listing["next_page"] is None


def test_cursor_pages_newest_first_and_offset_sort_order(fresh: Sandbox) -> None:
    tid = _live_ticket(fresh)
    url = f"/api/v2/tickets/{tid}/comments.json"
    with httpx.Client(base_url=fresh.base_url, auth=ZD_AUTH) as client:
        for n in range(5):
            _comment(client, tid, f"note {n}")
        newest = _all_pages(client, url, {"page[size]": 2, "sort": "-created_at"})
        oldest = _all_pages(client, url, {"page[size]": 2})
        offset = client.get(url, params={"sort_order": "desc", "per_page": 3}).json()
        bad = client.get(url, params={"page[size]": 2, "sort": "updated_at"})
    bodies = [c["body"] for c in newest]
    assert bodies[:5] == [f"note {n}" for n in (4, 3, 2, 1, 0)] and len(bodies) == 6
    assert [c["id"] for c in oldest] == [c["id"] for c in reversed(newest)]
    assert [c["body"] for c in offset["comments"]] == ["note 4", "note 3", "note 2"]
    assert offset["next_page"] and offset["count"] == 6
    assert bad.status_code == 400


def test_update_many_comments_unknown_ticket_and_blank_body(fresh: Sandbox) -> None:
    tid = _live_ticket(fresh)
    with httpx.Client(base_url=fresh.base_url, auth=ZD_AUTH) as client:
        queued = client.put(
            "/api/v2/tickets/update_many.json",
            json={"tickets": [{"id": tid, "comment": {"body": "bulk note", "public": False}}]},
        )
        blank = client.put(f"/api/v2/tickets/{tid}.json", json={"ticket": {"comment": {}}})
        missing = client.get("/api/v2/tickets/999999999/comments.json")
        bodies = [
            c["body"] for c in client.get(f"/api/v2/tickets/{tid}/comments.json").json()["comments"]
        ]
    assert queued.status_code == 200 and bodies[1:] == ["bulk note"]
    assert blank.status_code == 422 and missing.status_code == 404


def test_lost_response_applies_the_write_then_resets(fresh: Sandbox) -> None:
    tid = _live_ticket(fresh)
    fresh.faults.add(rf"/tickets/{tid}\.json", "lost_response", method="PUT")
    with httpx.Client(base_url=fresh.base_url, auth=ZD_AUTH) as client:
        with pytest.raises(httpx.TransportError):
            _comment(client, tid, "sent once")
        listing = client.get(f"/api/v2/tickets/{tid}/comments.json").json()
    assert [c["body"] for c in listing["comments"]][1:] == ["sent once"]
    assert [r["status"] for r in fresh.requests] == ["reset", 200]


def test_zenpy_lists_the_comments(fresh: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    tid = _live_ticket(fresh)
    with httpx.Client(base_url=fresh.base_url, auth=ZD_AUTH) as client:
        _comment(client, tid, "seen by zenpy")
    zd = zenpy_client(fresh, monkeypatch)
    bodies = [c.body for c in zd.tickets.comments(ticket=tid)]
    assert bodies[-1] == "seen by zenpy" and len(bodies) == 2
