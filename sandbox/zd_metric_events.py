"""Zendesk Incremental Ticket Metric Events export (time-based), derived from ticket timings.

Per the Ticket Metric Events reference: `reply_time` and `agent_work_time` events of type
`activate` and `fulfill`, paged like the other time-based exports (`sandbox.zd_export`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from sandbox.app import RouteTable
from sandbox.formats import zd_datetime
from sandbox.httpd import Request, Response
from sandbox.state import State
from sandbox.tickets import PackedKeys
from sandbox.zd_export import time_page
from sandbox.zd_shapes import metric

ROUTES = RouteTable()


def _metric_events(state: State) -> PackedKeys:
    """(time, event key) for every metric event, cached per ticket-table version."""
    t = state.world.tickets
    cached = state.derived.get("metric_events")
    if cached is None or cached[0] != t.version:
        cached = (t.version, PackedKeys.build(_derive_metric_events(state)))
        state.derived["metric_events"] = cached
    events: PackedKeys = cached[1]
    return events


def _derive_metric_events(state: State) -> Iterator[tuple[int, int]]:
    """(time, event key) of every metric event; key = position * 8 + event kind."""
    t = state.world.tickets
    for p in range(len(t)):
        c = t.created[p]
        yield c, p * 8
        yield c, p * 8 + 1
        if t.status[p] != 0:
            yield c + t.reply_min[p] * 60, p * 8 + 2
        if t.solved[p]:
            yield t.solved[p], p * 8 + 3


_EVENTS = (
    ("reply_time", "activate"),
    ("agent_work_time", "activate"),
    ("reply_time", "fulfill"),
    ("agent_work_time", "fulfill"),
)


@ROUTES.add("GET", r"/api/v2/incremental/ticket_metric_events\.json")
def metric_events(state: State, req: Request, m: re.Match[str]) -> Response:
    with state.world.lock:
        keys = _metric_events(state)
        t = state.world.tickets

        def render(key: int) -> dict[str, Any]:
            pos, kind = divmod(key, 8)
            name, typ = _EVENTS[kind]
            event = {
                "id": 500_000_000_000 + key,
                "ticket_id": pos + 1,
                "metric": name,
                "instance_id": 1,
                "type": typ,
                "time": zd_datetime(
                    (
                        t.created[pos],
                        t.created[pos],
                        t.created[pos] + t.reply_min[pos] * 60,
                        t.solved[pos],
                    )[kind]
                ),
            }
            if typ == "fulfill" and name == "reply_time":
                event["status"] = metric(state.world, pos, req.base_url)["reply_time_in_minutes"]
            return event

        return time_page(state, req, "ticket_metric_events", "ticket_metric_events", keys, render)
