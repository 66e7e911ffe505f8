"""The write-back outbox: enqueue planned writes once (recording results: sync.outbox_results).

States: pending -> done | dead; a pending field/tag write is `superseded` when a newer plan
replaces it. At most one pending item exists per (kind, target) — enforced by a partial
unique index — so a re-plan merges into it rather than queueing a second write. A target is
the record `target_id` of the source `system` (ids repeat across instances of one system).
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from model.tables import OutboxItem, utcnow
from model.upsert import upsert_rows
from sync.outbox_results import (
    FIELD_KINDS,
    MAX_ATTEMPTS,
    TARGET_KIND,
    backoff,
    due_items,
    record_failure,
    record_successes,
    retry_dead,
)
from sync.writeback import PlanChunk, PlannedWrite
from sync.writeback_rows import IN_BATCH

__all__ = [
    "FIELD_KINDS",
    "MAX_ATTEMPTS",
    "TARGET_KIND",
    "CreateRequest",
    "PlanSummary",
    "backoff",
    "due_items",
    "enqueue_chunks",
    "enqueue_creates",
    "enqueue_plan",
    "record_failure",
    "record_successes",
    "retry_dead",
]

SAMPLE_WRITES = 200  # writes a plan summary keeps for a dry run's listing


@dataclass(frozen=True)
class CreateRequest:
    """A non-idempotent creation (ticket, task) with a stable key from the escalation that wants it."""

    key: str
    system: str
    kind: str
    payload: dict[str, Any]


@dataclass
class PlanSummary:
    """What a streamed plan came to: writes per kind, how many rows were queued or updated,
    and the first writes (for a dry run's listing) — never the whole plan."""

    planned: dict[str, int] = field(default_factory=dict)
    enqueued: int = 0
    sample: list[PlannedWrite] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.planned.values())


def enqueue_plan(session: Session, plan: Iterable[PlannedWrite]) -> int:
    """Put planned field/tag writes in the outbox, merging into any pending write of the same
    target; a pending field/tag write the plan no longer contains is superseded."""
    writes = list(plan)
    chunk = PlanChunk(writes, {(p.system, p.kind, p.target_id) for p in writes})
    return enqueue_chunks(session, [chunk], sweep=True).enqueued


def enqueue_chunks(
    session: Session,
    chunks: Iterable[PlanChunk],
    *,
    sweep: bool,
    sweep_accounts: Collection[int] = (),
    dry_run: bool = False,
    sample: int = SAMPLE_WRITES,
) -> PlanSummary:
    """Queue a streamed plan chunk by chunk (see `writeback.plan_chunks`).

    Within a chunk, a pending write to a target the planner looked at is updated to the new
    payload, or superseded when nothing is planned for it any more. With `sweep` (a plan of the
    whole book), pending writes queued before this plan whose target no chunk looked at (ticket
    closed, account no longer scored) are superseded too; a targeted refresh does not sweep, so
    other accounts' pending writes stand. `sweep_accounts` (a plan of these accounts only:
    sync/plan_scope.py) sweeps the pending writes queued for them, and no others.
    """
    summary = PlanSummary()
    before = session.execute(select(func.max(OutboxItem.id))).scalar() or 0
    looked_at: set[int] = set()  # ids of pending writes older than this plan that a chunk saw
    for chunk in chunks:
        for p in chunk.writes:
            summary.planned[p.kind] = summary.planned.get(p.kind, 0) + 1
        if len(summary.sample) < sample:
            summary.sample.extend(chunk.writes[: sample - len(summary.sample)])
        if dry_run:
            continue
        summary.enqueued += _enqueue_chunk(session, chunk, looked_at)
    if dry_run or not (sweep or sweep_accounts):
        return summary
    older = select(OutboxItem.id).where(
        OutboxItem.status == "pending", OutboxItem.kind.in_(FIELD_KINDS), OutboxItem.id <= before
    )
    if sweep:
        stale = [i for i in session.execute(older).scalars() if i not in looked_at]
    else:
        accounts = sorted(set(sweep_accounts))
        stale = [
            i
            for start in range(0, len(accounts), IN_BATCH)
            for i in session.execute(
                older.where(OutboxItem.account_id.in_(accounts[start : start + IN_BATCH]))
            ).scalars()
            if i not in looked_at
        ]
    for start in range(0, len(stale), IN_BATCH):
        session.execute(
            update(OutboxItem)
            .where(OutboxItem.id.in_(stale[start : start + IN_BATCH]))
            .values(status="superseded")
        )
    return summary


def _enqueue_chunk(session: Session, chunk: PlanChunk, looked_at: set[int]) -> int:
    # a target is (source, kind, id): two helpdesk instances both have an organization 1
    planned = {(p.system, p.kind, p.target_id): p for p in chunk.writes}
    by_kind: dict[tuple[str, str], list[str]] = {}
    for system, kind, target_id in chunk.considered:
        by_kind.setdefault((system, kind), []).append(target_id)
    pending: dict[tuple[str, str, str | None], OutboxItem] = {}
    for (system, kind), targets in by_kind.items():
        for start in range(0, len(targets), IN_BATCH):
            for item in session.execute(
                select(OutboxItem).where(
                    OutboxItem.status == "pending",
                    OutboxItem.system == system,
                    OutboxItem.kind == kind,
                    OutboxItem.target_id.in_(targets[start : start + IN_BATCH]),
                )
            ).scalars():
                pending[(item.system, item.kind, item.target_id)] = item
                looked_at.add(item.id)
    n = 0
    for target, item in pending.items():
        if target not in planned:  # the desired value went back to what was last written
            item.status = "superseded"
    session.flush()
    rows = []
    now = utcnow()
    for target, p in planned.items():
        existing = pending.get(target)
        if existing is not None:
            existing.account_id = p.account_id  # the record may have moved to another account
            if existing.payload != p.payload:
                existing.payload, existing.attempts, existing.next_attempt_at = p.payload, 0, None
                n += 1
            continue
        rows.append(
            {
                "key": f"{p.kind}:{p.target_id}:{uuid.uuid4().hex}",
                "system": p.system,
                "kind": p.kind,
                "target_id": p.target_id,
                "account_id": p.account_id,
                "payload": p.payload,
                "status": "pending",
                "attempts": 0,
                "result": {},
                "created_at": now,
            }
        )
    if rows:
        session.execute(insert(OutboxItem), rows)
    session.flush()
    return n + len(rows)


def enqueue_creates(session: Session, requests: Sequence[CreateRequest]) -> int:
    """Queue creations; a key already in the outbox (any state) is never queued again."""
    rows = [
        {
            "key": r.key,
            "system": r.system,
            "kind": r.kind,
            "target_id": r.key[-64:],
            "payload": r.payload,
            "status": "pending",
            "attempts": 0,
            "result": {},
            "created_at": utcnow(),
        }
        for r in requests
    ]
    before = session.execute(
        select(OutboxItem.key).where(OutboxItem.key.in_([r.key for r in requests]))
    )
    existing = set(before.scalars())
    upsert_rows(session, OutboxItem.__table__, rows, key=["key"], update=[])  # type: ignore[arg-type]
    return len([r for r in requests if r.key not in existing])
