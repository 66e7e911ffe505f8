"""Zendesk ticket comments: stored when a ticket update carries one, listed per ticket.

`GET /api/v2/tickets/{id}/comments.json` lists the description as the first comment, then
every comment added through `PUT tickets/{id}.json` or `update_many`, oldest first. Cursor
pagination (`page[size]`, at most 100) sorts with `sort=created_at|-created_at`; offset
pagination (`per_page`, `page`) with `sort_order=asc|desc` (Ticket Comments reference).

Each comment's `audit_id` names the audit that added it (`sandbox.zd_audits`).

Simplified: the first comment is rebuilt from the ticket's description on each listing;
comments carry no attachments or metadata flags; the author of an API comment is the first
agent (the API user) unless the request names `author_id`.
"""

from __future__ import annotations

import re
from typing import Any

from sandbox.app import BadRequest, RouteTable
from sandbox.formats import zd_datetime
from sandbox.httpd import Request, Response
from sandbox.state import State
from sandbox.tickets import DELETED
from sandbox.zd_lists import not_found, paginate
from sandbox.zd_shapes import ticket

FIRST_COMMENT_BASE = 500_000_000_000  # id of a ticket's description comment: base + ticket id
COMMENT_BASE = 510_000_000_000  # ids of comments added later: base + serial
FIRST_AUDIT_BASE = 600_000_000_000  # the creation audit holding the first comment: base + ticket id


ROUTES = RouteTable()


def add_comment(state: State, pos: int, comment: Any) -> dict[str, Any]:
    """Store a comment sent with a ticket update; returns it. A blank body is refused (422)."""
    if not isinstance(comment, dict):
        raise BadRequest(422, "RecordInvalid", "Comment: must be an object")
    body = str(comment.get("body") or comment.get("html_body") or "")
    if not body.strip():
        raise BadRequest(422, "RecordInvalid", "Comment: body cannot be blank")
    w = state.world
    stored = w.tickets.comments.setdefault(pos, [])
    w.tickets.comment_serial += 1
    record = {
        "id": COMMENT_BASE + w.tickets.comment_serial,
        "author_id": int(comment.get("author_id") or w.agents[0]),
        "body": body,
        "public": bool(comment.get("public", True)),
        "created_at": w.clock.epoch(),
    }
    stored.append(record)
    return record


def _first(state: State, req: Request, pos: int) -> dict[str, Any]:
    t = state.world.tickets
    shown = ticket(state.world, pos, req.base_url)
    return {
        "id": FIRST_COMMENT_BASE + pos + 1,
        "author_id": t.requester[pos] or state.world.agents[0],
        "body": shown["description"],
        "public": True,
        "created_at": t.created[pos],
        "audit_id": FIRST_AUDIT_BASE + pos + 1,
    }


def render_comment(record: dict[str, Any], tid: int) -> dict[str, Any]:
    """A stored comment as the Ticket Comments API (and an audit's Comment event) shows it."""
    body = record["body"]
    return {
        "id": record["id"],
        "type": "Comment",
        "author_id": record["author_id"],
        "body": body,
        "html_body": f'<div class="zd-comment"><p>{body}</p></div>',
        "plain_body": body,
        "public": record["public"],
        "attachments": [],
        "audit_id": record.get("audit_id"),
        "via": {"channel": "api", "source": {"from": {}, "to": {}, "rel": None}},
        "metadata": {"system": {}, "custom": {}},
        "created_at": zd_datetime(record["created_at"]),
        "ticket_id": tid,
    }


def _newest_first(req: Request) -> bool:
    q = req.query
    cursor = any(k.startswith("page[") for k in q)
    wanted = q.get("sort", "created_at") if cursor else q.get("sort_order", "asc")
    allowed = ("created_at", "-created_at") if cursor else ("asc", "desc")
    if wanted not in allowed:
        name = "sort" if cursor else "sort_order"
        raise BadRequest(400, "InvalidPaginationParameter", f"{name} must be one of {allowed}")
    return wanted in ("-created_at", "desc")


@ROUTES.add("GET", r"/api/v2/tickets/(?P<id>\d+)/comments\.json")
def list_comments(state: State, req: Request, m: re.Match[str]) -> Response:
    with state.world.lock:
        t = state.world.tickets
        pos = t.position(int(m.group("id")))
        if pos is None or t.status[pos] == DELETED:
            raise not_found()
        records = [_first(state, req, pos), *t.comments.get(pos, [])]
    records.sort(key=lambda r: (r["created_at"], r["id"]), reverse=_newest_first(req))
    return paginate(
        req, "comments", range(len(records)), lambda i: render_comment(records[i], pos + 1)
    )
