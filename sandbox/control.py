"""The `/_sandbox/` control API: logs, counts, clock, faults, changes and the hidden truth over HTTP."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from sandbox.app import BadRequest, RouteTable
from sandbox.changes import change_fraction, changed_since
from sandbox.evolve import advance
from sandbox.httpd import Request, Response, json_response
from sandbox.state import State

ROUTES = RouteTable()


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


@ROUTES.add("GET", r"/_sandbox/requests")
def requests_log(state: State, req: Request, m: re.Match[str]) -> Response:
    return json_response(200, {"requests": state.requests})


@ROUTES.add("GET", r"/_sandbox/writes")
def writes_log(state: State, req: Request, m: re.Match[str]) -> Response:
    return json_response(200, {"writes": state.writes})


@ROUTES.add("POST", r"/_sandbox/clear")
def clear(state: State, req: Request, m: re.Match[str]) -> Response:
    state.clear_log()
    return json_response(200, {"cleared": True})


@ROUTES.add("POST", r"/_sandbox/advance")
def advance_clock(state: State, req: Request, m: re.Match[str]) -> Response:
    try:
        if "seconds" in req.query:
            state.world.clock.jump(float(req.query["seconds"]) / 86400.0)
            return json_response(200, {"now": state.world.clock.now().isoformat()})
        days = int(req.query.get("days", "1"))
        stats = advance(state.world, days)
    except ValueError as exc:
        raise BadRequest(400, "invalid_parameter", str(exc)) from exc
    return json_response(200, {"now": state.world.clock.now().isoformat(), **stats})


@ROUTES.add("POST", r"/_sandbox/faults")
def faults(state: State, req: Request, m: re.Match[str]) -> Response:
    """Body: {"profile": ...} and/or {"add": [{path, action, times, method}]},
    {"record_errors": {code, ids|rate, times}}, {"clear": true}."""
    try:
        body = req.json() or {}
        if body.get("clear"):
            state.faults.clear()
        if "profile" in body:
            state.faults.set_profile(body["profile"])
        for rule in body.get("add", []):
            state.faults.add(rule["path"], rule["action"], rule.get("times", 1), rule.get("method"))
        if "record_errors" in body:
            state.faults.record_errors(**body["record_errors"])
    except (ValueError, KeyError, TypeError) as exc:
        raise BadRequest(400, "invalid_fault", str(exc)) from exc
    return json_response(200, {"profile": state.faults.profile})


@ROUTES.add("POST", r"/_sandbox/change")
def change(state: State, req: Request, m: re.Match[str]) -> Response:
    """`?fraction=0.01&seed=1`: change that fraction of every pulled kind of record, now."""
    try:
        fraction = float(req.query.get("fraction", "0.01"))
        changed = change_fraction(state.world, fraction, int(req.query.get("seed", "1")))
    except ValueError as exc:
        raise BadRequest(400, "invalid_parameter", str(exc)) from exc
    return json_response(200, {"now": state.world.clock.now().isoformat(), "changed": changed})


@ROUTES.add("GET", r"/_sandbox/changed")
def changed(state: State, req: Request, m: re.Match[str]) -> Response:
    """`?since=EPOCH`: records per pulled stream changed after that moment."""
    try:
        since = float(req.query["since"])
    except (KeyError, ValueError) as exc:
        raise BadRequest(400, "invalid_parameter", "since=EPOCH_SECONDS is required") from exc
    return json_response(200, {"since": since, "changed": changed_since(state.world, since)})


@ROUTES.add("GET", r"/_sandbox/truth")
def truth(state: State, req: Request, m: re.Match[str]) -> Response:
    return json_response(200, _jsonable(state.world.truth))


@ROUTES.add("GET", r"/_sandbox/counts")
def counts(state: State, req: Request, m: re.Match[str]) -> Response:
    return json_response(
        200,
        {
            "endpoints": state.counts(),
            "records": state.world.counts(),
            "now": state.world.clock.now().isoformat(),
            "epoch": state.world.clock.now().timestamp(),
        },
    )


def solve_ticket_earlier(state: State, ticket_id: int, hours_ago: float) -> dict[str, Any]:
    """A story: engineering solved ticket `ticket_id` `hours_ago` hours ago (and nobody wrote
    the RCA). The solve (and, if need be, the opening) is backdated; the change itself is
    stamped now, so an incremental export still returns it."""
    from sandbox.tickets import SOLVED

    t = state.world.tickets
    pos = t.position(ticket_id)
    if pos is None:
        raise BadRequest(404, "RecordNotFound", f"no ticket {ticket_id}")
    now = state.world.clock.epoch()
    with state.world.lock:
        t.status[pos] = SOLVED
        t.solved[pos] = now - int(hours_ago * 3600)
        t.created[pos] = min(t.created[pos], t.solved[pos] - 3600)  # opened before its solve
        t.touch(pos, now)
    return {"ticket_id": ticket_id, "solved_at": t.solved[pos]}


@ROUTES.add("POST", r"/_sandbox/stories/solved-ticket")
def solved_ticket_story(state: State, req: Request, m: re.Match[str]) -> Response:
    body = req.json() or {}
    try:
        ticket_id, hours_ago = int(body["ticket_id"]), float(body.get("hours_ago", 96))
    except (KeyError, TypeError, ValueError) as exc:
        raise BadRequest(400, "invalid_parameter", "ticket_id (int) is required") from exc
    return json_response(200, solve_ticket_earlier(state, ticket_id, hours_ago))
