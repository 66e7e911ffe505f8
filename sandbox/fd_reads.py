"""Freshdesk reads: companies, tickets (`updated_since`, ordering, `include=stats`, the
300-page limit), one ticket, its conversations, ticket search and satisfaction ratings.

Per the Freshdesk API v2 reference: `GET /api/v2/tickets` without `updated_since` lists only
tickets created in the past 30 days; `order_by` is created_at (default) or updated_at (also
due_by, status), `order_type` desc (default) or asc; at most 100 a page and no page past the
300th (a 400 naming `page`): a caller with more to read restarts from the last `updated_at`
it saw. Deleted tickets are left out unless `filter=deleted`. Ratings list from
`created_since` (default: the past 30 days), oldest first. Search takes a quoted query of
`tag:'...'` / `status:N` terms joined by AND, 30 results a page, 10 pages at most.

Simplified: search supports only those two terms; `include=requester|company` are refused.
"""

from __future__ import annotations

import bisect
import re
from typing import Any

from sandbox.fd_common import (
    int_param,
    invalid,
    list_response,
    not_found,
    page_of,
    routes,
    since_param,
)
from sandbox.fd_shapes import company, note, rated, rating, ticket
from sandbox.httpd import Request, Response, json_response
from sandbox.state import State
from sandbox.tickets import DELETED
from sandbox.zd_shapes import rating_created

ROUTES, route = routes()
PAGE_LIMIT = 300
INCLUDES = frozenset({"stats", "description"})
RECENT = 30 * 86400


def live_org(state: State, raw: str) -> dict[str, Any]:
    org = state.world.orgs.get(int(raw))
    if org is None or org.get("deleted_at") is not None:
        raise not_found()
    return org


def ticket_pos(state: State, raw: str | int) -> int:
    pos = state.world.tickets.position(int(raw))
    if pos is None:
        raise not_found()
    return pos


def includes(req: Request) -> frozenset[str]:
    wanted = frozenset(x for x in req.query.get("include", "").split(",") if x)
    if wanted - INCLUDES:
        raise invalid(
            "include", f"It should be one of these values: '{','.join(sorted(INCLUDES))}'"
        )
    return wanted


@route("GET", r"/api/v2/companies")
def companies(state: State, req: Request, m: re.Match[str]) -> Response:
    with state.world.lock:
        orgs = sorted(
            (o for o in state.world.orgs.values() if o.get("deleted_at") is None),
            key=lambda o: int(o["id"]),
        )
        chunk, link = page_of(req, orgs)
        return list_response([company(o) for o in chunk], link)


@route("GET", r"/api/v2/companies/(?P<id>\d+)")
def show_company(state: State, req: Request, m: re.Match[str]) -> Response:
    with state.world.lock:
        return json_response(200, company(live_org(state, m["id"])))


def _by_updated(state: State) -> list[tuple[int, int]]:
    """(updated_at, position) of every live ticket, sorted, cached per table version."""
    t = state.world.tickets
    cached = state.derived.get("fd_by_updated")
    if cached is not None and cached[0] == t.version:
        keys: list[tuple[int, int]] = cached[1]
        return keys
    keys = sorted((t.updated[p], p) for p in range(len(t)) if t.status[p] != DELETED)
    state.derived["fd_by_updated"] = (t.version, keys)
    return keys


def _listed(state: State, req: Request) -> list[int]:
    """Positions of the tickets a listing shows, in the order asked for."""
    t = state.world.tickets
    now = state.world.clock.epoch()
    since = since_param(req, "updated_since")
    order_by = req.query.get("order_by", "created_at")
    order_type = req.query.get("order_type", "desc")
    if order_by not in ("created_at", "updated_at", "due_by", "status"):
        raise invalid(
            "order_by", "It should be one of these values: 'created_at,due_by,updated_at,status'"
        )
    if order_type not in ("asc", "desc"):
        raise invalid("order_type", "It should be one of these values: 'asc,desc'")
    filt = req.query.get("filter")
    if filt not in (None, "deleted"):
        raise invalid("filter", "It should be one of these values: 'deleted'")
    company_id = int_param(req, "company_id", 0)
    if order_by == "updated_at" and filt is None and not company_id:
        keys = _by_updated(state)
        lo = bisect.bisect_left(keys, (since, -1)) if since is not None else 0
        positions = [p for ts, p in keys[lo:] if since is not None or t.created[p] >= now - RECENT]
    else:
        wanted_status = (lambda s: s == DELETED) if filt else (lambda s: s != DELETED)
        positions = [
            p
            for p in range(len(t))
            if wanted_status(t.status[p])
            and (since is None or t.updated[p] >= since)
            and (since is not None or t.created[p] >= now - RECENT)
            and (not company_id or t.org[p] == company_id)
        ]
        column = {"created_at": t.created, "updated_at": t.updated, "due_by": t.created}.get(
            order_by, t.status
        )
        positions.sort(key=lambda p: (column[p], p))
    return positions[::-1] if order_type == "desc" else positions


@route("GET", r"/api/v2/tickets")
def tickets(state: State, req: Request, m: re.Match[str]) -> Response:
    include = includes(req)
    with state.world.lock:
        chunk, link = page_of(req, _listed(state, req), max_page=PAGE_LIMIT)
        return list_response([ticket(state.world, p, include) for p in chunk], link)


@route("GET", r"/api/v2/tickets/(?P<id>\d+)")
def show_ticket(state: State, req: Request, m: re.Match[str]) -> Response:
    include = includes(req)
    with state.world.lock:
        return json_response(200, ticket(state.world, ticket_pos(state, m["id"]), include))


@route("GET", r"/api/v2/tickets/(?P<id>\d+)/conversations")
def conversations(state: State, req: Request, m: re.Match[str]) -> Response:
    with state.world.lock:
        pos = ticket_pos(state, m["id"])
        stored = state.world.tickets.comments.get(pos, [])
        chunk, link = page_of(req, stored)
        return list_response([note(pos, c) for c in chunk], link)


_TERM = re.compile(r"\s*(tag|status):(?:'([^']*)'|(\d+))\s*")


def _terms(query: str) -> list[tuple[str, str]]:
    if len(query) < 2 or not (query.startswith('"') and query.endswith('"')):
        raise invalid("query", "Query should be enclosed in double quotes", "invalid_value")
    out = []
    for part in re.split(r"\bAND\b", query[1:-1]):
        found = _TERM.fullmatch(part)
        if found is None:
            raise invalid("query", f"Invalid query term: {part.strip()!r}", "invalid_value")
        out.append((found[1], found[2] if found[2] is not None else found[3]))
    return out


@route("GET", r"/api/v2/search/tickets")
def search_tickets(state: State, req: Request, m: re.Match[str]) -> Response:
    terms = _terms(req.query.get("query", ""))
    page = int_param(req, "page", 1, 1, 10)
    with state.world.lock:
        w = state.world
        t = w.tickets
        found = [
            p
            for p in range(len(t))
            if t.status[p] != DELETED
            and all(
                (v in t.tag_list(p)) if k == "tag" else ticket(w, p)["status"] == int(v)
                for k, v in terms
            )
        ]
        found.sort(key=lambda p: -t.created[p])
        chunk = found[(page - 1) * 30 : page * 30]
        return json_response(200, {"results": [ticket(w, p) for p in chunk], "total": len(found)})


@route("GET", r"/api/v2/surveys/satisfaction_ratings")
def satisfaction_ratings(state: State, req: Request, m: re.Match[str]) -> Response:
    now = state.world.clock.epoch()
    since = since_param(req, "created_since")
    since = now - RECENT if since is None else since
    with state.world.lock:
        t = state.world.tickets
        keys = sorted(
            (rating_created(t, p), p)
            for p in range(len(t))
            if rated(t, p) and since <= rating_created(t, p) <= now
        )
        chunk, link = page_of(req, keys)
        return list_response([rating(state.world, p) for _, p in chunk], link)
