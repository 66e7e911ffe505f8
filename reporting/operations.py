"""What the operator looks at: runs, cursors, API quota, outbox, quarantine, identity review, overrides."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from model.tables import (
    Account,
    ExternalIdentity,
    OutboxItem,
    QuarantinedRecord,
    ScoreAudit,
    ScoreOverride,
    SyncCursor,
    SyncRun,
    utcnow,
)

LIST_LIMIT = 200
REVIEW_STATES = ("ambiguous", "unmatched")


def recent_runs(session: Session, limit: int = 50) -> list[SyncRun]:
    return list(session.scalars(select(SyncRun).order_by(SyncRun.id.desc()).limit(limit)))


def cursors(session: Session) -> list[SyncCursor]:
    return list(session.scalars(select(SyncCursor).order_by(SyncCursor.stream)))


def api_usage(runs: list[SyncRun]) -> dict[str, dict[str, Any]]:
    """Per system: API calls of the newest run that made any, and the quota it last reported.

    Reads what the sync engine records: `stats['api_calls'] = {system: n}` and
    `stats['quota'] = {system: {used, total}}` (only systems that report a quota).
    """
    out: dict[str, dict[str, Any]] = {}
    for run in runs:  # newest first: the first run that reports a system wins
        stats = run.stats or {}
        for system, n in (stats.get("api_calls") or {}).items():
            if system not in out and isinstance(n, int | float):
                out[system] = {"calls": n, "run_id": run.id, "at": run.started_at}
        for system, q in (stats.get("quota") or {}).items():
            entry = out.setdefault(system, {"run_id": run.id, "at": run.started_at})
            if isinstance(q, dict) and "used" not in entry:
                entry.update(used=q.get("used"), limit=q.get("total"))
    return out


def run_pulled(run: SyncRun) -> int:
    pulled = (run.stats or {}).get("pulled") or {}
    return sum(v for v in pulled.values() if isinstance(v, int))


def outbox_by_kind(session: Session) -> dict[tuple[str, str], int]:
    """(kind, status) -> items, over every system."""
    return {
        (kind, st): n
        for kind, st, n in session.execute(
            select(OutboxItem.kind, OutboxItem.status, func.count()).group_by(
                OutboxItem.kind, OutboxItem.status
            )
        )
    }


def outbox_counts(session: Session) -> dict[tuple[str, str, str], int]:
    """(system, kind, status) -> items."""
    return {
        (sys, kind, st): n
        for sys, kind, st, n in session.execute(
            select(OutboxItem.system, OutboxItem.kind, OutboxItem.status, func.count())
            .group_by(OutboxItem.system, OutboxItem.kind, OutboxItem.status)
            .order_by(OutboxItem.system, OutboxItem.kind, OutboxItem.status)
        )
    }


def dead_letters(session: Session, limit: int = LIST_LIMIT) -> list[OutboxItem]:
    return list(session.scalars(
        select(OutboxItem).where(OutboxItem.status == "dead").order_by(OutboxItem.id.desc()).limit(limit)
    ))  # fmt: skip


def pending_items(session: Session, limit: int = 50) -> list[OutboxItem]:
    return list(session.scalars(
        select(OutboxItem).where(OutboxItem.status == "pending").order_by(OutboxItem.id).limit(limit)
    ))  # fmt: skip


def quarantined(session: Session, limit: int = LIST_LIMIT) -> tuple[int, list[QuarantinedRecord]]:
    total = int(session.scalar(select(func.count()).select_from(QuarantinedRecord)) or 0)
    rows = session.scalars(
        select(QuarantinedRecord).order_by(QuarantinedRecord.id.desc()).limit(limit)
    )
    return total, list(rows)


@dataclass
class ReviewItem:
    identity: ExternalIdentity
    candidates: list[tuple[int, str]]


def identity_queue(session: Session, limit: int = LIST_LIMIT) -> tuple[int, list[ReviewItem]]:
    """Ambiguous and unmatched records, each with its candidate accounts' names."""
    pending = ExternalIdentity.status.in_(REVIEW_STATES), ExternalIdentity.is_deleted.is_(False)
    total = int(
        session.scalar(select(func.count()).select_from(ExternalIdentity).where(*pending)) or 0
    )
    idents = list(session.scalars(
        select(ExternalIdentity).where(*pending)
        .order_by(ExternalIdentity.status, ExternalIdentity.source, ExternalIdentity.name).limit(limit)
    ))  # fmt: skip
    ids = {int(c) for i in idents for c in (i.candidates or []) if str(c).isdigit()}
    names = (
        dict(session.execute(select(Account.id, Account.name).where(Account.id.in_(ids))).all())
        if ids
        else {}
    )  # type: ignore[arg-type]
    return total, [
        ReviewItem(i, [(int(c), names.get(int(c), "?")) for c in i.candidates or [] if str(c).isdigit()])
        for i in idents
    ]  # fmt: skip


def review_records(session: Session) -> tuple[list[ExternalIdentity], dict[int, str]]:
    """Every ambiguous or unmatched record by source, and the names of the accounts they name."""
    queue = list(session.scalars(
        select(ExternalIdentity)
        .where(ExternalIdentity.status.in_(REVIEW_STATES))
        .order_by(ExternalIdentity.source, ExternalIdentity.status, ExternalIdentity.name)
    ))  # fmt: skip
    wanted = {int(c) for r in queue for c in r.candidates or [] if str(c).isdigit()}
    names = session.execute(select(Account.id, Account.name).where(Account.id.in_(wanted)))
    return queue, {aid: name for aid, name in names}


def overrides(session: Session, limit: int = LIST_LIMIT) -> list[tuple[ScoreOverride, str, bool]]:
    """Overrides newest first, with the account name and whether each is still in force."""
    now = utcnow()
    rows = session.execute(
        select(ScoreOverride, Account.name)
        .join(Account, Account.id == ScoreOverride.account_id)
        .order_by(ScoreOverride.created_at.desc())
        .limit(limit)
    )
    return [(o, name, not o.revoked and o.expires_at > now) for o, name in rows]


def audit_output(session: Session) -> tuple[dict[str, Any] | None, ScoreAudit | None]:
    """The newest renewal-risk model's audit and the newest stored trust audit (drift,
    overrides); None for what has not been made yet."""
    from scoring.audit import latest_audit
    from scoring.trust import latest_trust_audit

    return latest_audit(session), latest_trust_audit(session)
