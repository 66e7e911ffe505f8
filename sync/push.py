"""Drain the outbox through the connectors in the largest batches each API allows.

Network calls happen outside any transaction; each batch's per-record results are then
recorded in one transaction. A crash between the call and the record leaves the items
pending: field and tag writes are idempotent (the same values again), and creations carry
an Idempotency-Key plus external_id, so a replay never duplicates. Ticket comments carry a
key marker that a retry looks for first; and routes with `mark_in_flight` (comments) record
`IN_FLIGHT` on their items before the call, so the replay after a crash between a
comment's send and its record knows to look too.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from connectors.errors import ConnectorError, Retriable
from model.db import transaction
from model.tables import OutboxItem, utcnow
from sync import outbox
from sync.crashpoints import crash_point
from sync.outbox_results import DueItem

log = logging.getLogger(__name__)


class WriteResultLike(Protocol):
    target_id: str
    ok: bool
    retriable: bool
    error_code: str | None
    message: str | None
    created_id: str | None  # a creation's new record


Pusher = Callable[[Sequence[DueItem]], Sequence[WriteResultLike]]


@dataclass
class DrainStats:
    attempted: int = 0
    done: int = 0
    retrying: int = 0
    dead: int = 0
    calls: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "attempted": self.attempted,
            "done": self.done,
            "retrying": self.retrying,
            "dead": self.dead,
            "batches": dict(self.calls),
        }


Splitter = Callable[[Sequence[DueItem]], list[list[DueItem]]]


@dataclass(frozen=True)
class Route:
    """How one outbox kind is pushed: `batch_size` items per pusher call, in due order.

    With `split`, `window` due items are read at once and `split` cuts them into the
    pusher's batches (e.g. whole API calls of one tag change, so none is sent half-full).
    """

    pusher: Pusher
    batch_size: int
    window: int = 0
    split: Splitter | None = None
    # for writes that are not idempotent by themselves: mark the items before the call, so a
    # process killed before recording the result leaves a trace the next send checks
    mark_in_flight: bool = False
    # the outbox kind and source this route drains, when two sources declare one kind (the
    # route's key is then "<kind>@<source>"); None: the key is the kind, of any source
    kind: str | None = None
    system: str | None = None


IN_FLIGHT = "in flight: sent, result not recorded yet"


def drain(
    factory: sessionmaker[Session],
    routes: dict[str, Route],
    *,
    now: dt.datetime | None = None,
    max_batches: int = 10_000,
    on_batch: Callable[[], None] | None = None,
) -> DrainStats:
    """Push every due item of the routed kinds; returns what happened. `on_batch` is called
    after each batch (a run's heartbeat: a first sync's push is minutes long)."""
    stats = DrainStats()
    for key, route in routes.items():
        kind = route.kind or key
        # one pass in id order: an item is read once per drain (a failed one waits for its
        # backoff, and the next drain). The last id read, not a set of every id read: at
        # 50,000 accounts the ticket-tag route's set grew by ~13 MiB over a first sync's push
        after: int | None = None
        limit = max(route.batch_size, route.window) if route.split else route.batch_size
        for _ in range(max_batches):
            with transaction(factory) as session:
                items = outbox.due_items(
                    session, now or utcnow(), [kind], limit, system=route.system, after=after
                )
            if not items:
                break
            after = items[-1].id
            for batch in route.split(items) if route.split else [items]:
                if stats.calls:
                    crash_point("mid_push")
                stats.calls[kind] = stats.calls.get(kind, 0) + 1
                _push_batch(factory, route, batch, stats)
                if on_batch is not None:
                    on_batch()
    return stats


def _push_batch(
    factory: sessionmaker[Session], route: Route, items: Sequence[DueItem], stats: DrainStats
) -> None:
    stats.attempted += len(items)
    if route.mark_in_flight:
        with transaction(factory) as session:
            session.execute(
                update(OutboxItem)
                .where(OutboxItem.id.in_([i.id for i in items]), OutboxItem.last_error.is_(None))
                .values(last_error=IN_FLIGHT)
                .execution_options(synchronize_session=False)
            )
    try:
        results = list(route.pusher(items))
    except ConnectorError as exc:  # the whole call failed: every item shares its fate
        retriable = isinstance(exc, Retriable)
        log.warning("outbox batch of %s %s failed: %s", len(items), items[0].kind, exc)
        with transaction(factory) as session:
            for item in items:
                _count(
                    stats,
                    outbox.record_failure(
                        session, item, retriable=retriable, message=str(exc), code=exc.code
                    ),
                )
        return
    crash_point("after_remote_write")
    if len(results) != len(items):
        raise RuntimeError(f"pusher returned {len(results)} results for {len(items)} items")
    with transaction(factory) as session:
        done = [(i, _result_dict(r)) for i, r in zip(items, results, strict=True) if r.ok]
        outbox.record_successes(session, done)
        stats.done += len(done)
        for item, res in zip(items, results, strict=True):
            if not res.ok:
                status = outbox.record_failure(
                    session,
                    item,
                    retriable=res.retriable,
                    message=res.message or "",
                    code=res.error_code,
                )
                _count(stats, status)


def _count(stats: DrainStats, status: str) -> None:
    if status == "dead":
        stats.dead += 1
    else:
        stats.retrying += 1


def _result_dict(res: WriteResultLike) -> dict[str, Any]:
    out: dict[str, Any] = {"target_id": res.target_id}
    if created := res.created_id:
        out["created_id"] = created
    return out
