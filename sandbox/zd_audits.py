"""Zendesk ticket audits: recorded for every API write, listed and shown per ticket.

Per the Ticket Audits reference and the Ticket Audit events reference: an audit is
`{id, ticket_id, created_at, author_id, metadata: {system, custom}, via: {channel, source},
events}`; a ticket's creation audit holds a Comment event (the description) and one Create
event per field set; an update holds a Comment event when it adds one and a Change event
(`value`, `previous_value`) per field it changed. `GET tickets/{id}/audits.json` lists them
oldest first with cursor (`page[size]`, at most 100) or offset pagination.

Simplified: a generated ticket has only its creation audit, built from its current fields
(status `new`); no Notification, SLA or trigger events; no `ticket_audits.json` account-wide
listing, `audits/count` or `make_private`.
"""

from __future__ import annotations

import re
from typing import Any

from sandbox.app import RouteTable
from sandbox.formats import zd_datetime
from sandbox.httpd import Request, Response, json_response
from sandbox.state import State
from sandbox.tickets import DELETED
from sandbox.zd_comments import FIRST_AUDIT_BASE, FIRST_COMMENT_BASE, render_comment
from sandbox.zd_lists import not_found, paginate
from sandbox.zd_shapes import ticket

CREATE_AUDIT_BASE = FIRST_AUDIT_BASE  # a ticket's creation audit: base + ticket id
AUDIT_BASE = 610_000_000_000  # audits of later API writes: base + serial
CREATE_EVENT_BASE = 700_000_000_000  # creation events: base + ticket id * 32 + index
EVENT_BASE = 720_000_000_000  # events of later writes: base + serial
CREATED_FIELDS = (
    "subject",
    "requester_id",
    "submitter_id",
    "status",
    "priority",
    "type",
    "assignee_id",
    "group_id",
    "organization_id",
    "tags",
    "brand_id",
    "ticket_form_id",
)
CHANGED_FIELDS = ("subject", "status", "priority", "type", "assignee_id", "group_id", "tags")
_VIA_SOURCE: dict[str, Any] = {"from": {}, "to": {}, "rel": None}


ROUTES = RouteTable()


def _wire(value: Any) -> Any:
    """Event values are strings (tags a list), as Zendesk sends them."""
    if value is None or isinstance(value, list):
        return value
    return str(value)


def audited(world_ticket: dict[str, Any]) -> dict[str, Any]:
    """The audited fields of a rendered ticket (compared before and after a write)."""
    return {k: world_ticket.get(k) for k in CHANGED_FIELDS}


def _metadata(req: Request | None) -> dict[str, Any]:
    client = req.header("user-agent", "") if req is not None else ""
    system = {
        "client": client,
        "ip_address": "127.0.0.1",
        "location": "Loopback, Sandbox",
        "latitude": 0.0,
        "longitude": 0.0,
    }
    return {"system": system if req is not None else {}, "custom": {}}


def creation_audit(
    state: State, pos: int, base: str, req: Request | None = None, status: str | None = None
) -> dict[str, Any]:
    """The audit of a ticket's creation: its description as a Comment, one Create per field set."""
    w = state.world
    shown = ticket(w, pos, base)
    tid = pos + 1
    audit_id = CREATE_AUDIT_BASE + tid
    author = shown["submitter_id"] or w.agents[0]
    comment = {
        "id": FIRST_COMMENT_BASE + tid,
        "author_id": shown["requester_id"] or w.agents[0],
        "body": shown["description"],
        "public": True,
        "created_at": w.tickets.created[pos],
        "audit_id": audit_id,
    }
    values = {**shown, "status": status or shown["status"]}
    events: list[dict[str, Any]] = [_comment_event(comment, tid)]
    for name in CREATED_FIELDS:
        value = values.get(name)
        if value is None or value == []:
            continue
        events.append({"type": "Create", "field_name": name, "value": _wire(value)})
    for index, event in enumerate(events[1:], start=1):
        event["id"] = CREATE_EVENT_BASE + tid * 32 + index
    via = "api" if req is not None else shown["via"]["channel"]
    return {
        "id": audit_id,
        "ticket_id": tid,
        "created_at": zd_datetime(w.tickets.created[pos]),
        "author_id": author,
        "metadata": _metadata(req),
        "via": {"channel": via, "source": dict(_VIA_SOURCE)},
        "events": events,
    }


def _comment_event(comment: dict[str, Any], tid: int) -> dict[str, Any]:
    """A Comment event: the comment's own keys, without the listing-only ones."""
    listed = render_comment(comment, tid)
    return {
        k: v for k, v in listed.items() if k not in ("ticket_id", "created_at", "via", "metadata")
    }


def _next_event(state: State) -> int:
    state.zd_audit_serial += 1
    return EVENT_BASE + state.zd_audit_serial


def record_update(
    state: State,
    pos: int,
    req: Request,
    before: dict[str, Any],
    comment: dict[str, Any] | None,
) -> dict[str, Any]:
    """Store and return the audit of an API update: a Comment event (if any), then Changes."""
    w = state.world
    state.zd_audit_serial += 1
    audit_id = AUDIT_BASE + state.zd_audit_serial
    after = audited(ticket(w, pos, req.base_url))
    events: list[dict[str, Any]] = []
    if comment is not None:
        comment["audit_id"] = audit_id
        events.append(_comment_event(comment, pos + 1))
    for name in CHANGED_FIELDS:
        if before[name] != after[name]:
            events.append(
                {
                    "id": _next_event(state),
                    "type": "Change",
                    "field_name": name,
                    "value": _wire(after[name]),
                    "previous_value": _wire(before[name]),
                }
            )
    audit = {
        "id": audit_id,
        "ticket_id": pos + 1,
        "created_at": zd_datetime(w.clock.epoch()),
        "author_id": int(comment["author_id"]) if comment else w.agents[0],
        "metadata": _metadata(req),
        "via": {"channel": "api", "source": dict(_VIA_SOURCE)},
        "events": events,
    }
    state.zd_audits.setdefault(pos, []).append(audit)
    return audit


def record_creation(state: State, pos: int, req: Request, status: str) -> dict[str, Any]:
    """Store and return the creation audit of a ticket created through the API."""
    audit = creation_audit(state, pos, req.base_url, req, status)
    state.zd_audits.setdefault(pos, []).insert(0, audit)
    state.zd_api_created.add(pos)
    return audit


def _audits(state: State, req: Request, tid: str) -> tuple[int, list[dict[str, Any]]]:
    t = state.world.tickets
    pos = t.position(int(tid))
    if pos is None or t.status[pos] == DELETED:
        raise not_found()
    stored = list(state.zd_audits.get(pos, []))
    if pos not in state.zd_api_created:
        stored.insert(0, creation_audit(state, pos, req.base_url, status="new"))
    return pos, stored


@ROUTES.add("GET", r"/api/v2/tickets/(?P<id>\d+)/audits\.json")
def list_audits(state: State, req: Request, m: re.Match[str]) -> Response:
    with state.world.lock:
        _, audits = _audits(state, req, m.group("id"))
    return paginate(req, "audits", range(len(audits)), lambda i: audits[i])


@ROUTES.add("GET", r"/api/v2/tickets/(?P<id>\d+)/audits/(?P<audit>\d+)\.json")
def show_audit(state: State, req: Request, m: re.Match[str]) -> Response:
    with state.world.lock:
        _, audits = _audits(state, req, m.group("id"))
    wanted = int(m.group("audit"))
    found = next((a for a in audits if a["id"] == wanted), None)
    if found is None:
        raise not_found()
    return json_response(200, {"audit": found})
