"""Snapshot storage for scoring: past scores, children's snapshots, active overrides, upserts."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from model.tables import Account, HealthSnapshot, ScoreOverride
from scoring.health import PastScore

CHUNK = 5000
# Rows a streamed read of snapshots holds at once: each carries its signals JSON (~10 KB
# parsed), so 10,000 held ~100 MiB whatever the book's size; 250 keep it near 2.5 MiB. What a
# batch took is freed, but a long-lived object made meanwhile keeps its pages resident: at
# 50,000 accounts the training read left 6 MiB less resident with 250 than with 1,000, and
# took no longer (PostgreSQL's server-side cursor fetches each batch in one round trip).
SNAPSHOT_STREAM_ROWS = 250


def live_account_ids(session: Session) -> list[int]:
    return list(
        session.scalars(
            select(Account.id).where(Account.is_deleted.is_(False)).order_by(Account.id)
        )
    )


def parent_ids(session: Session) -> list[int]:
    """Accounts that have live children (they need a roll-up pass)."""
    child = select(Account.parent_id).where(
        Account.parent_id.is_not(None), Account.is_deleted.is_(False)
    )
    q = select(Account.id).where(Account.id.in_(child), Account.is_deleted.is_(False))
    return list(session.scalars(q.order_by(Account.id)))


def load_history(
    session: Session, as_of: date, days: int, ids: list[int] | None
) -> dict[int, list[PastScore]]:
    stmt = select(HealthSnapshot.account_id, HealthSnapshot.as_of, HealthSnapshot.computed_score)
    stmt = stmt.where(
        HealthSnapshot.as_of < as_of, HealthSnapshot.as_of >= as_of - timedelta(days=days)
    )
    out: dict[int, list[PastScore]] = defaultdict(list)
    for chunk in chunks(ids):
        q = stmt if chunk is None else stmt.where(HealthSnapshot.account_id.in_(chunk))
        for aid, day, score in session.execute(q):
            out[aid].append(PastScore(day, score))
    return out


def outside_children(
    session: Session, as_of: date, ids: list[int]
) -> dict[int, list[tuple[int, float | None, float | None]]]:
    """Children of the scored parents that are not being scored now, with today's snapshot."""
    out: dict[int, list[tuple[int, float | None, float | None]]] = defaultdict(list)
    for chunk in chunks(ids):
        rows = session.execute(
            select(Account.parent_id, Account.id, HealthSnapshot.computed_score, Account.arr)
            .join(HealthSnapshot, HealthSnapshot.account_id == Account.id)
            .where(Account.parent_id.in_(chunk or []), Account.id.not_in(ids))
            .where(HealthSnapshot.as_of == as_of, Account.is_deleted.is_(False))
        )
        for pid, cid, score, arr in rows:
            if pid is not None:
                out[pid].append((cid, score, arr))
    return out


def active_overrides(
    session: Session, moment: datetime, ids: list[int] | None
) -> dict[int, ScoreOverride]:
    """Unrevoked overrides created before `moment` and expiring after it; the newest wins."""
    stmt = select(ScoreOverride).where(
        ScoreOverride.revoked.is_(False),
        ScoreOverride.created_at <= moment,
        ScoreOverride.expires_at > moment,
    )
    out: dict[int, ScoreOverride] = {}
    for chunk in chunks(ids):
        q = stmt if chunk is None else stmt.where(ScoreOverride.account_id.in_(chunk))
        for o in session.scalars(q.order_by(ScoreOverride.created_at, ScoreOverride.id)):
            out[o.account_id] = o
    return out


def upsert_snapshots(
    session: Session, as_of: date, rows: list[dict[str, Any]], *, returning: bool = True
) -> list[HealthSnapshot]:
    """Update the day's existing snapshots by primary key, insert the rest (unique account+day);
    with `returning=False` nothing is loaded back (the batched path keeps memory flat)."""
    if not rows:
        return []
    ids = [r["account_id"] for r in rows]
    existing: dict[int, int] = {}
    for chunk in chunks(ids):
        q = select(HealthSnapshot.account_id, HealthSnapshot.id).where(
            HealthSnapshot.as_of == as_of, HealthSnapshot.account_id.in_(chunk or [])
        )
        existing.update(session.execute(q).tuples().all())
    updates = [{**r, "id": existing[r["account_id"]]} for r in rows if r["account_id"] in existing]
    inserts = [r for r in rows if r["account_id"] not in existing]
    if updates:
        session.execute(update(HealthSnapshot), updates)
    if not returning:
        for i in range(0, len(inserts), CHUNK):
            session.execute(insert(HealthSnapshot), inserts[i : i + CHUNK])
        return []
    snaps: list[HealthSnapshot] = []
    for i in range(0, len(inserts), CHUNK):
        stmt = insert(HealthSnapshot).returning(HealthSnapshot)
        snaps.extend(session.scalars(stmt, inserts[i : i + CHUNK]).all())
    for chunk in chunks([u["id"] for u in updates]):
        fresh = select(HealthSnapshot).where(HealthSnapshot.id.in_(chunk or []))
        snaps.extend(session.scalars(fresh.execution_options(populate_existing=True)))
    return sorted(snaps, key=lambda s: s.account_id)


def chunks(ids: list[int] | None) -> list[list[int] | None]:
    if ids is None:
        return [None]
    return [ids[i : i + CHUNK] for i in range(0, len(ids), CHUNK)]
