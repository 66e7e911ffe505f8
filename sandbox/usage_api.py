"""Usage API: paginated workspaces, daily aggregates and survey responses (Bearer), Mixpanel-style
NDJSON export (Basic).

Change cursor: every workspace and daily row carries `updated_at`, and every listing answers
`meta.updated_until`, the time up to which it includes changes (one second behind the
server's clock, so a change within the same second is never lost). Passing that value back as
`updated_since` lists only what changed after it — late-arriving rows for any past day
included — so a client needs no look-back window. With `updated_since`, `start_date` is
optional on `/usage/v1/daily`.

Simplified: cursors are opaque offsets (into the (date, workspace_id) grid, or into the
changed rows) that carry the listing's `updated_until`; no rate limits on the usage
endpoints (Mixpanel allows 60 export queries an hour).
"""

from __future__ import annotations

import base64
import bisect
import datetime as dt
import json
import re
from collections.abc import Iterator
from typing import Any

from sandbox.app import BadRequest, RouteTable
from sandbox.formats import parse_datetime, to_epoch, zd_datetime
from sandbox.httpd import Request, Response, chunks, json_response
from sandbox.state import State
from sandbox.usage import changed_keys, daily_row, events_for, row_updated_at
from sandbox.world import Workspace, World

ROUTES = RouteTable()


def _limit(req: Request, default: int = 100) -> int:
    try:
        return max(1, min(1000, int(req.query.get("limit", default))))
    except ValueError as exc:
        raise BadRequest(400, "invalid_parameter", "limit must be an integer") from exc


def _cursor(state: State, req: Request) -> tuple[str, int]:
    """(position, updated_until) of a page: a listing keeps the watermark of its first page.

    The position is an offset (`o:N`, full listings) or the last key served (`k:...`,
    listings of changes, whose members can drop out when they change again mid-listing).
    """
    raw = req.query.get("cursor")
    if not raw:
        return "", state.world.clock.epoch() - 1
    try:
        text = base64.urlsafe_b64decode(raw + "==").decode()
        position, _, until = text.partition(":u:")
        if not position.startswith(("o:", "k:")):
            raise ValueError(position)
        return position, int(until) if until else state.world.clock.epoch() - 1
    except ValueError as exc:
        raise BadRequest(400, "invalid_cursor", "cursor is not valid") from exc


def _offset(position: str) -> int:
    try:
        return int(position.removeprefix("o:")) if position else 0
    except ValueError as exc:
        raise BadRequest(400, "invalid_cursor", "cursor is not valid") from exc


def _next(position: str, until: int) -> str:
    return base64.urlsafe_b64encode(f"{position}:u:{until}".encode()).decode().rstrip("=")


def _since(req: Request) -> int | None:
    raw = req.query.get("updated_since")
    if raw is None:
        return None
    try:
        return to_epoch(parse_datetime(raw))
    except ValueError as exc:
        raise BadRequest(
            400, "invalid_parameter", "updated_since must be an ISO-8601 datetime with offset"
        ) from exc


def _meta(more: bool, position: str, until: int) -> dict[str, Any]:
    return {
        "has_more": more,
        "next_cursor": _next(position, until) if more else None,
        "updated_until": zd_datetime(until),
    }


def _date(req: Request, name: str, default: dt.date | None = None) -> dt.date:
    raw = req.query.get(name)
    if raw is None:
        if default is None:
            raise BadRequest(400, "invalid_parameter", f"{name} is required (YYYY-MM-DD)")
        return default
    try:
        return dt.date.fromisoformat(raw)
    except ValueError as exc:
        raise BadRequest(400, "invalid_parameter", f"{name} must be YYYY-MM-DD") from exc


@ROUTES.add("GET", r"/usage/v1/workspaces")
def workspaces(state: State, req: Request, m: re.Match[str]) -> Response:
    """Workspaces in id order; with `updated_since`, those changed after it (up to the watermark)."""
    limit, (position, until), since = _limit(req), _cursor(state, req), _since(req)
    spaces = state.world.workspaces
    if since is not None:
        after = position.removeprefix("k:")
        changed = [w for w in spaces if since < w.updated_at <= until and w.id > after]
        items, more = changed[:limit], len(changed) > limit
        position = f"k:{items[-1].id}" if items else position
    else:
        offset = _offset(position)
        items, more = spaces[offset : offset + limit], offset + limit < len(spaces)
        position = f"o:{offset + limit}"
    data = [
        {
            "id": w.id,
            "name": w.name,
            "domain": w.domain,
            "salesforce_account_id": w.salesforce_account_id,
            "created_at": zd_datetime(w.created_at),
            "updated_at": zd_datetime(w.updated_at),
        }
        for w in items
    ]
    return json_response(200, {"data": data, "meta": _meta(more, position, until)})


@ROUTES.add("GET", r"/usage/v1/daily")
def daily(state: State, req: Request, m: re.Match[str]) -> Response:
    """Rows ordered by (date, workspace_id); the cursor is the flat offset in that order.

    With `updated_since`: only rows whose `updated_at` is after it and at most the listing's
    `updated_until`, still in (date, workspace_id) order; `start_date` is then optional.
    """
    world = state.world
    now = world.clock.now()
    since = _since(req)
    start = _date(req, "start_date", dt.date.min if since is not None else None)
    end = min(_date(req, "end_date", now.date()), now.date())
    limit, (position, until) = _limit(req), _cursor(state, req)
    spaces = world.workspaces
    n = len(spaces)
    data: list[dict[str, Any]] = []
    if since is not None:
        keys = changed_keys(world, since, until, now, (start.toordinal(), end.toordinal()))
        if position:
            keys = keys[bisect.bisect_right(keys, _key(position)) :]
        for day, idx in keys[:limit]:
            data.extend(_row(world, spaces[idx], day, now))
        more = len(keys) > limit
        if keys[:limit]:
            position = "k:{}:{}".format(*keys[:limit][-1])
    else:
        total = max(0, (end - start).days + 1) * n
        i = _offset(position)
        while i < total and len(data) < limit:
            day, idx = divmod(i, n)
            data.extend(_row(world, spaces[idx], start.toordinal() + day, now))
            i += 1
        more, position = i < total, f"o:{i}"
    return json_response(200, {"data": data, "meta": _meta(more, position, until)})


def _key(position: str) -> tuple[int, int]:
    """The (day, workspace index) a page of changes ended at."""
    try:
        day, _, idx = position.removeprefix("k:").partition(":")
        return int(day), int(idx)
    except ValueError as exc:
        raise BadRequest(400, "invalid_cursor", "cursor is not valid") from exc


def _row(world: World, ws: Workspace, day: int, now: dt.datetime) -> list[dict[str, Any]]:
    """The wire row of one workspace and day with its `updated_at` (none before it existed)."""
    row = daily_row(world, ws, day, now)
    if row is None:
        return []
    return [{**row, "updated_at": zd_datetime(row_updated_at(world, ws, day, now))}]


@ROUTES.add("GET", r"/api/2.0/export/?")
def export(state: State, req: Request, m: re.Match[str]) -> Response:
    now = state.world.clock.now()
    start, end = _date(req, "from_date"), min(_date(req, "to_date"), now.date())
    if end < start:
        raise BadRequest(400, "invalid_parameter", "to_date must not be before from_date")
    wanted = None
    if "event" in req.query:
        try:
            wanted = set(json.loads(req.query["event"]))
        except ValueError as exc:
            raise BadRequest(400, "invalid_parameter", "event must be a JSON list") from exc

    def lines() -> Iterator[bytes]:
        for day in range(start.toordinal(), end.toordinal() + 1):
            for ws in state.world.workspaces:
                for event in events_for(state.world, ws, day, now):
                    if wanted is None or event["event"] in wanted:
                        yield json.dumps(event, separators=(",", ":")).encode() + b"\n"

    return Response(200, chunks(lines()), {"Content-Type": "application/x-ndjson"})


@ROUTES.add("GET", r"/usage/v1/surveys")
def surveys(state: State, req: Request, m: re.Match[str]) -> Response:
    """Survey responses (NPS, CES) in id order, only those already answered; with
    `updated_since`, those changed after it (up to the listing's watermark)."""
    limit, (position, until), since = _limit(req), _cursor(state, req), _since(req)
    answered = [s for s in state.world.surveys if s["updated_at"] <= until]
    if since is not None:
        after = position.removeprefix("k:")
        changed = [s for s in answered if since < s["updated_at"] and s["id"] > after]
        items, more = changed[:limit], len(changed) > limit
        position = f"k:{items[-1]['id']}" if items else position
    else:
        offset = _offset(position)
        items, more = answered[offset : offset + limit], offset + limit < len(answered)
        position = f"o:{offset + limit}"
    data = [
        {
            **s,
            "responded_at": zd_datetime(s["responded_at"]),
            "updated_at": zd_datetime(s["updated_at"]),
        }
        for s in items
    ]
    return json_response(200, {"data": data, "meta": _meta(more, position, until)})
