"""Usage API: paginated workspaces and daily aggregates (Bearer), Mixpanel-style NDJSON export (Basic).

Simplified: cursors are opaque offsets into the (date, workspace_id) grid; no rate limits on
the usage endpoints (Mixpanel allows 60 export queries an hour).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
from collections.abc import Iterator
from typing import Any

from sandbox.app import BadRequest, Route
from sandbox.formats import zd_datetime
from sandbox.httpd import Request, Response, chunks, json_response
from sandbox.state import State
from sandbox.usage import daily_row, events_for


def _limit(req: Request, default: int = 100) -> int:
    try:
        return max(1, min(1000, int(req.query.get("limit", default))))
    except ValueError as exc:
        raise BadRequest(400, "invalid_parameter", "limit must be an integer") from exc


def _cursor(req: Request) -> int:
    raw = req.query.get("cursor")
    if not raw:
        return 0
    try:
        return int(base64.urlsafe_b64decode(raw + "==").decode().removeprefix("o:"))
    except ValueError as exc:
        raise BadRequest(400, "invalid_cursor", "cursor is not valid") from exc


def _next(offset: int) -> str:
    return base64.urlsafe_b64encode(f"o:{offset}".encode()).decode().rstrip("=")


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


def workspaces(state: State, req: Request, m: re.Match[str]) -> Response:
    limit, offset = _limit(req), _cursor(req)
    items = state.world.workspaces[offset : offset + limit]
    more = offset + limit < len(state.world.workspaces)
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
    return json_response(
        200,
        {
            "data": data,
            "meta": {"has_more": more, "next_cursor": _next(offset + limit) if more else None},
        },
    )


def daily(state: State, req: Request, m: re.Match[str]) -> Response:
    """Rows ordered by (date, workspace_id); the cursor is the flat offset in that order."""
    now = state.world.clock.now()
    start = _date(req, "start_date")
    end = min(_date(req, "end_date", now.date()), now.date())
    limit, offset = _limit(req), _cursor(req)
    spaces = state.world.workspaces
    n = len(spaces)
    total = max(0, (end - start).days + 1) * n
    data: list[dict[str, Any]] = []
    i = offset
    while i < total and len(data) < limit:
        day, idx = divmod(i, n)
        row = daily_row(state.world, spaces[idx], start.toordinal() + day, now)
        if row is not None:
            data.append(row)
        i += 1
    more = i < total
    return json_response(
        200, {"data": data, "meta": {"has_more": more, "next_cursor": _next(i) if more else None}}
    )


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


ROUTES: list[Route] = [
    ("GET", r"/usage/v1/workspaces", workspaces),
    ("GET", r"/usage/v1/daily", daily),
    ("GET", r"/api/2.0/export/?", export),
]
