"""The outbox's other half: which items are due, and each pushed item's result recorded.

A success marks the item done and remembers the values written (`written_state`); a failure
is retried with backoff or dead-lettered with the API's own message.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, Text, bindparam, select, update
from sqlalchemy import cast as sql_cast
from sqlalchemy.orm import Session

from model.tables import OutboxItem, WrittenState, utcnow
from model.upsert import upsert_rows
from sync.created import link_created
from sync.field_cache import forget_metadata
from sync.writeback import encode

FIELD_KINDS = (
    "crm_account_fields",
    "helpdesk_org_fields",
    "helpdesk_ticket_tags",
)  # planned, not created
BACKOFF_BASE_S, BACKOFF_MAX_S, MAX_ATTEMPTS = 30, 3600, 8  # retry waits (s) and attempts


@dataclass(frozen=True, slots=True)
class DueItem:
    """A pending item as the push reads it: plain values, no ORM state. The payload is
    shared by the items of one read that carry the same one (read-only)."""

    id: int
    key: str
    system: str
    kind: str
    target_id: str | None
    payload: Mapping[str, Any]
    attempts: int
    last_error: str | None


# what pushing and recording an item read from it: the push's rows, or an item an operator
# (or a test) loaded itself; both carry the same fields
OutboxEntry = DueItem | OutboxItem


def due_items(
    session: Session,
    now: dt.datetime,
    kinds: Sequence[str],
    limit: int,
    *,
    system: str | None = None,
    after: int | None = None,
) -> list[DueItem]:
    """Pending items of `kinds` (of the source `system` only, when given) due by `now`, in id
    order (after the id `after`, given: a drain's next read).

    A tag route reads 25,000 at once to cut whole jobs: as ORM objects they held ~76 MiB on
    PostgreSQL, as plain rows whose identical payloads (a window's thousands of tickets
    share a handful of tag changes) are parsed once, ~15 MiB."""
    o = OutboxItem
    stmt = (
        select(o.id, o.key, o.system, o.kind, o.target_id, sql_cast(o.payload, Text))
        .add_columns(o.attempts, o.last_error)
        .where(o.status == "pending", o.kind.in_(list(kinds)))
        .where((o.next_attempt_at.is_(None)) | (o.next_attempt_at <= now))
        .order_by(o.id)
        .limit(limit)
    )
    if system is not None:
        stmt = stmt.where(o.system == system)
    if after is not None:
        stmt = stmt.where(o.id > after)
    payloads: dict[str, Mapping[str, Any]] = {}
    items = []
    for id_, key, source, kind, target, text, attempts, error in session.execute(stmt):
        payload = payloads.get(text)
        if payload is None:
            payload = payloads[text] = json.loads(text) if text else {}
        items.append(DueItem(id_, key, source, kind, target, payload, attempts, error))
    return items


def backoff(attempts: int) -> dt.timedelta:
    return dt.timedelta(seconds=min(BACKOFF_MAX_S, BACKOFF_BASE_S * 2 ** max(0, attempts - 1)))


# the entity a planned write kind targets: its written state is kept under (system, entity)
TARGET_KIND = {
    "crm_account_fields": "account",
    "helpdesk_org_fields": "organization",
    "helpdesk_ticket_tags": "ticket",
}


def record_successes(session: Session, done: Sequence[tuple[OutboxEntry, dict[str, Any]]]) -> None:
    """Mark a pushed batch done and remember what now stands in the external systems: one
    UPDATE and one written-state upsert for the batch, not two statements per record."""
    if not done:
        return
    now = utcnow()
    table = cast(Table, OutboxItem.__table__)
    session.execute(
        update(table)
        .where(table.c.id == bindparam("item_id"), table.c.status == "pending")
        .values(status="done", done_at=now, result=bindparam("item_result"), last_error=None),
        [{"item_id": item.id, "item_result": result} for item, result in done],
    )
    written: list[dict[str, Any]] = []
    for item, result in done:
        if item.kind not in TARGET_KIND:
            link_created(session, item, result.get("created_id"))
            continue
        system, target_kind = item.system, TARGET_KIND[item.kind]
        assert item.target_id is not None
        written += [
            {
                "system": system,
                "target_kind": target_kind,
                "target_id": item.target_id,
                "field": f,
                "value": v,
                "written_at": now,
            }
            for f, v in _written_values(item).items()
        ]
    if written:
        upsert_rows(
            session,
            WrittenState.__table__,  # type: ignore[arg-type]
            written,
            key=["system", "target_kind", "target_id", "field"],
        )


def _written_values(item: OutboxEntry) -> dict[str, str | None]:
    if item.kind == "helpdesk_ticket_tags":
        values: dict[str, str | None] = {
            f"tag:{t}": encode(True) for t in item.payload.get("add", [])
        }
        values |= {f"tag:{t}": None for t in item.payload.get("remove", [])}
        return values
    return {f: encode(v) for f, v in item.payload.get("fields", {}).items()}


def record_failure(
    session: Session, item: OutboxEntry, *, retriable: bool, message: str, code: str | None = None
) -> str:
    """Schedule a retry with backoff, or dead-letter with the API's own message; returns the new status."""
    attempts = item.attempts + 1
    dead = not retriable or attempts >= MAX_ATTEMPTS
    status = "dead" if dead else "pending"
    error = f"{code}: {message}" if code else message
    session.execute(
        update(OutboxItem)
        .where(OutboxItem.id == item.id)
        .values(
            status=status,
            attempts=attempts,
            last_error=error[:4000],
            next_attempt_at=None if dead else utcnow() + backoff(attempts),
            done_at=utcnow() if dead else None,
        )
    )
    return status


def retry_dead(session: Session, item_ids: Sequence[int]) -> int:
    """Operator action: put dead letters back in the queue.

    Re-queued field writes also drop the metadata their source keeps (the field describe): a
    refusal for a field the system lacked is retried because someone fixed it, so check again.
    """
    systems = session.execute(
        select(OutboxItem.system).where(
            OutboxItem.id.in_(list(item_ids)),
            OutboxItem.status == "dead",
            OutboxItem.kind.in_(FIELD_KINDS),
        )
    ).scalars()
    forget_metadata(session, systems)
    res = session.execute(
        update(OutboxItem)
        .where(OutboxItem.id.in_(list(item_ids)), OutboxItem.status == "dead")
        .values(status="pending", attempts=0, next_attempt_at=None, done_at=None)
    )
    return int(res.rowcount or 0)  # type: ignore[attr-defined]
