"""Zendesk `show_many` reads: several tickets or organizations by id in one request.

`GET /api/v2/tickets/show_many.json?ids=1,2` and `organizations/show_many.json?ids=` take up
to 100 comma-separated ids; ids that do not exist (or deleted tickets) are left out of the
answer, which keeps the order asked. Simplified: no `include=` side-loads.
"""

from __future__ import annotations

import re

from sandbox.app import BadRequest, RouteTable
from sandbox.httpd import Request, Response, json_response
from sandbox.state import State
from sandbox.tickets import DELETED
from sandbox.zd_shapes import ticket, with_times

MAX_IDS = 100


ROUTES = RouteTable()


def _ids(req: Request) -> list[int]:
    raw = [i for i in req.query.get("ids", "").split(",") if i]
    if len(raw) > MAX_IDS:
        raise BadRequest(400, "TooManyValues", f"You may only specify up to {MAX_IDS} values")
    try:
        return [int(i) for i in raw]
    except ValueError as exc:
        raise BadRequest(400, "InvalidValue", "ids must be comma-separated integers") from exc


@ROUTES.add("GET", r"/api/v2/tickets/show_many\.json")
def tickets_show_many(state: State, req: Request, m: re.Match[str]) -> Response:
    w = state.world
    found = []
    with w.lock:
        for tid in _ids(req):
            pos = w.tickets.position(tid)
            if pos is not None and w.tickets.status[pos] != DELETED:
                found.append(ticket(w, pos, req.base_url))
    return json_response(200, {"tickets": found, "next_page": None, "count": len(found)})


@ROUTES.add("GET", r"/api/v2/organizations/show_many\.json")
def organizations_show_many(state: State, req: Request, m: re.Match[str]) -> Response:
    orgs = state.world.orgs
    with state.world.lock:
        found = [
            with_times(orgs[oid], req.base_url, "organizations") for oid in _ids(req) if oid in orgs
        ]
    return json_response(200, {"organizations": found, "next_page": None, "count": len(found)})
