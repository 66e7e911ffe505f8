"""Zendesk incremental exports: cursor-based tickets/users, time-based tickets/orgs/users (+ sample).

Per https://developer.zendesk.com/documentation/ticketing/managing-tickets/using-the-incremental-export-api

A `start_time` up to the sandbox clock's current second is accepted, as Zendesk accepts its
current time (the clock never runs behind the caller's: `sandbox.clock`); a later one is 422.
Items changed in the last minute are excluded, as Zendesk does; a time-based page is extended
past 1000 items while the following items share the last timestamp (so pages overlap, dedupe on id).
"""

from __future__ import annotations

import base64
import bisect
import dataclasses
import re
from collections.abc import Callable
from typing import Any, Protocol

from sandbox.app import BadRequest, RouteTable
from sandbox.formats import parse_datetime, to_epoch
from sandbox.httpd import Request, Response, json_response
from sandbox.state import State
from sandbox.tickets import DELETED
from sandbox.zd_shapes import metric, ticket, with_times

PAGE = 1000


ROUTES = RouteTable()


class Keys(Protocol):
    """Sorted (updated_at, key) pairs: a list of tuples or `tickets.PackedKeys`."""

    def __len__(self) -> int: ...

    def __getitem__(self, index: int, /) -> tuple[int, int]: ...


def encode_cursor(ts: int, key: int) -> str:
    """Opaque cursor in Zendesk's style (base64 of `ts.0||id|`)."""
    return base64.urlsafe_b64encode(f"{ts}.0||{key}|".encode()).decode()


def decode_cursor(cursor: str) -> tuple[int, int]:
    """(timestamp, key) from a cursor."""
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        ts, _, rest = text.partition("||")
        return int(float(ts)), int(rest.strip("|"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest(400, "InvalidPaginationParameter", "invalid cursor") from exc


def _start_time(req: Request) -> int:
    """Epoch seconds; also "1577836800.0" and ISO 8601 with Z, which tap-zendesk sends."""
    try:
        text = req.query["start_time"]
        return to_epoch(parse_datetime(text)) if "T" in text else int(float(text))
    except (KeyError, ValueError) as exc:
        raise BadRequest(400, "InvalidPaginationParameter", "start_time is required") from exc


def stamp(record: dict[str, Any]) -> int:
    """A record's export time; an injected record without an integer `updated_at` sorts first
    (a full export still serves it) instead of crashing the export."""
    value = record.get("updated_at")
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _per_page(req: Request) -> int:
    try:
        return max(1, min(PAGE, int(req.query.get("per_page", PAGE))))
    except ValueError:
        return PAGE


def _cursor_page(
    state: State,
    req: Request,
    kind: str,
    keys: Keys,
    render: Callable[[int], dict[str, Any]],
    skip: Callable[[int], bool],
) -> Response:
    """Shared cursor-export logic over items sorted by (updated_at, key)."""
    cutoff = state.world.clock.epoch() - state.export_lag
    if "cursor" in req.query:
        ts, key = decode_cursor(req.query["cursor"])
        i = bisect.bisect_right(keys, (ts, key))
        last = (ts, key)
    else:
        start = _start_time(req)
        i = bisect.bisect_left(keys, (start, -1))
        last = (start - 1, 1 << 62)  # an empty page resumes from start_time itself
    per_page = _per_page(req)
    items: list[dict[str, Any]] = []
    while i < len(keys) and keys[i][0] <= cutoff and len(items) < per_page:
        last = keys[i]
        if not skip(keys[i][1]):
            items.append(render(keys[i][1]))
        i += 1
    done = i >= len(keys) or keys[i][0] > cutoff
    after = encode_cursor(*last)
    return json_response(
        200,
        {
            kind: items,
            "after_url": f"{req.base_url}/api/v2/incremental/{kind}/cursor.json?cursor={after}",
            "after_cursor": after,
            "before_url": None,
            "before_cursor": None,
            "end_of_stream": done,
        },
    )


@ROUTES.add("GET", r"/api/v2/incremental/(?P<kind>tickets|users|organizations)/sample\.json")
def sample(state: State, req: Request, m: re.Match[str]) -> Response:
    """Incremental Sample Export: the time-based export capped at 50 items."""
    query = "&".join(p for p in req.raw_query.split("&") if not p.startswith("per_page="))
    capped = dataclasses.replace(req, raw_query=f"{query}&per_page=50")
    handler = {"tickets": tickets_time, "users": users_time, "organizations": orgs_time}
    return handler[m.group("kind")](state, capped, m)


@ROUTES.add("GET", r"/api/v2/incremental/tickets/cursor\.json")
def tickets_cursor(state: State, req: Request, m: re.Match[str]) -> Response:
    t = state.world.tickets
    exclude = req.query.get("exclude_deleted") == "true"
    with state.world.lock:
        keys = t.order()
        return _cursor_page(
            state,
            req,
            "tickets",
            keys,
            lambda p: _with_sideloads(state, req, p),
            lambda p: exclude and t.status[p] == DELETED,
        )


def _with_sideloads(state: State, req: Request, pos: int) -> dict[str, Any]:
    """A ticket, with its `metric_set` embedded when `include=metric_sets` asks for it."""
    item = ticket(state.world, pos, req.base_url, incremental=True)
    if "metric_sets" in req.query.get("include", "").split(","):
        item["metric_set"] = metric(state.world, pos, req.base_url)
    return item


def _users_sorted(state: State) -> tuple[list[tuple[int, int]], dict[int, dict[str, Any]]]:
    users = state.world.zd_users
    return sorted((stamp(u), uid) for uid, u in users.items()), users


@ROUTES.add("GET", r"/api/v2/incremental/users/cursor\.json")
def users_cursor(state: State, req: Request, m: re.Match[str]) -> Response:
    with state.world.lock:
        keys, users = _users_sorted(state)
        return _cursor_page(
            state,
            req,
            "users",
            keys,
            lambda uid: with_times(users[uid], req.base_url, "users"),
            lambda _: False,
        )


def time_page(
    state: State,
    req: Request,
    kind: str,
    path: str,
    keys: Keys,
    render: Callable[[int], dict[str, Any]],
) -> Response:
    start = _start_time(req)
    cutoff = state.world.clock.epoch() - state.export_lag
    if start > cutoff + state.export_lag:
        raise BadRequest(422, "InvalidValue", "start_time is in the future")
    i = bisect.bisect_left(keys, (start, -1))
    per_page = _per_page(req)
    items: list[dict[str, Any]] = []
    end_time = start
    while (
        i < len(keys) and keys[i][0] <= cutoff and (len(items) < per_page or keys[i][0] == end_time)
    ):
        end_time = keys[i][0]
        items.append(render(keys[i][1]))
        i += 1
    done = i >= len(keys) or keys[i][0] > cutoff
    # a full page that never left its start second would repeat forever: step past it
    next_start = end_time + 1 if end_time == start and len(items) >= per_page else end_time
    return json_response(
        200,
        {
            kind: items,
            "count": len(items),
            "end_of_stream": done,
            "end_time": end_time,
            "next_page": f"{req.base_url}/api/v2/incremental/{path}.json?start_time={next_start}",
        },
    )


def _rows_page(
    state: State, req: Request, kind: str, keys: Keys, rows: dict[int, dict[str, Any]]
) -> Response:
    """A time-based export page of plain rows (organizations, users) with their timestamps."""
    return time_page(
        state, req, kind, kind, keys, lambda i: with_times(rows[i], req.base_url, kind)
    )


@ROUTES.add("GET", r"/api/v2/incremental/tickets\.json")
def tickets_time(state: State, req: Request, m: re.Match[str]) -> Response:
    with state.world.lock:
        keys = state.world.tickets.order()
        return time_page(
            state,
            req,
            "tickets",
            "tickets",
            keys,
            lambda p: ticket(state.world, p, req.base_url, incremental=True),
        )


@ROUTES.add("GET", r"/api/v2/incremental/organizations\.json")
def orgs_time(state: State, req: Request, m: re.Match[str]) -> Response:
    with state.world.lock:
        orgs = state.world.orgs
        keys = sorted((stamp(o), oid) for oid, o in orgs.items())
        return _rows_page(state, req, "organizations", keys, orgs)


@ROUTES.add("GET", r"/api/v2/incremental/users\.json")
def users_time(state: State, req: Request, m: re.Match[str]) -> Response:
    with state.world.lock:
        keys, users = _users_sorted(state)
        return _rows_page(state, req, "users", keys, users)
