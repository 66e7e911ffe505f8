"""Which accounts an incremental run must re-evaluate besides those whose inputs changed.

An account's decisions depend on its own facts (scored with its inputs: the caller passes
the accounts whose inputs digest changed), and on three things that move without them:

- time: a resolved escalation's cooldown ends, an active one ages (its severity, update and
  acknowledgement rules read `now`), so every account with an active escalation, or one
  still cooling down or whose cooldown ended within the day, is re-evaluated;
- the rest of the book: the repeated-issue rule compares an account's ticket clusters with
  the book's topic mix, which any account's ticket moves; only an account with at least
  `min_tickets` tickets in the rule's window can hold a cluster, so those are re-evaluated
  when the book's tickets of that window changed since the last completed run (a digest of
  them is kept in the run's stats, `incremental.book`);
- people: an escalation resolved, acknowledged or snoozed by hand (its `updated_at`);
- a crash: accounts re-scored after the last completed run finished, whose escalation step
  may never have run.

Everything here is read from committed rows.
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from escalation.config import EscalationConfig
from escalation.fact_models import end_of_day
from model.tables import Escalation, HealthSnapshot, SyncRun, Ticket

ACTIVE = ("open", "acknowledged")
DONE = ("succeeded", "partial")


def last_completed_run(session: Session) -> SyncRun | None:
    """The newest run of the book that finished: near-real-time refreshes (one account) and
    dry runs (rolled back) do not count."""
    return session.scalars(
        select(SyncRun)
        .where(SyncRun.status.in_(DONE), SyncRun.dry_run.is_(False))
        .where(SyncRun.kind.not_like("refresh%"), SyncRun.finished_at.is_not(None))
        .order_by(SyncRun.finished_at.desc(), SyncRun.id.desc())
        .limit(1)
    ).first()


def scored_after(session: Session, as_of: date, last: SyncRun | None) -> set[int]:
    """Accounts re-scored after the last completed run finished: a run that crashed (or was
    stopped) between scoring and escalating left their decisions to this one."""
    q = select(HealthSnapshot.account_id).where(HealthSnapshot.as_of == as_of)
    if last is not None and last.finished_at is not None:
        q = q.where(HealthSnapshot.computed_at > last.finished_at)
    return set(session.scalars(q))


def scored_after_last_run(session: Session, as_of: date) -> set[int]:
    return scored_after(session, as_of, last_completed_run(session))


def escalation_scope(
    session: Session, as_of: date, now: datetime, config: EscalationConfig, changed: set[int]
) -> tuple[set[int], str]:
    """The accounts to re-evaluate (those whose inputs `changed`, and those whose decisions
    can change without that), and the digest of the book's tickets to keep with the run."""
    day_start = now - timedelta(days=1)
    escalated = select(Escalation.account_id).where(
        or_(
            Escalation.state.in_(ACTIVE),
            Escalation.cooldown_until >= day_start,
            Escalation.review_due_at >= day_start,
            Escalation.updated_at >= day_start,
        )
    )
    last = last_completed_run(session)
    out = changed | set(session.scalars(escalated)) | scored_after(session, as_of, last)
    book = book_digest(session, as_of, config)
    before = ((last.stats or {}).get("incremental") or {}).get("book") if last else None
    if book and book != before:
        out |= cluster_capable(session, as_of, config)
    return out, book


def book_digest(session: Session, as_of: date, config: EscalationConfig) -> str:
    """What the repeated-issue rule's book topic mix is read from (every account's tickets of
    its window), as a digest; "" when the rule does not compare with the book."""
    repeat = config.rule("repeated_issue")
    if not (repeat.enabled and repeat.book_norm):
        return ""
    end = end_of_day(as_of)
    start = end - timedelta(days=repeat.window_days + repeat.baseline_days)
    row = session.execute(
        select(func.count(), func.sum(Ticket.id), func.max(Ticket.updated_at))
        .where(Ticket.account_id.is_not(None))
        .where(Ticket.created_at >= start, Ticket.created_at < end)
    ).one()
    text = f"{start.isoformat()}|{tuple(row)}"
    return hashlib.sha256(text.encode()).hexdigest()


def cluster_capable(session: Session, as_of: date, config: EscalationConfig) -> set[int]:
    """Accounts with enough tickets in the repeated-issue window to hold a cluster."""
    repeat = config.rule("repeated_issue")
    if not repeat.enabled:
        return set()
    end = end_of_day(as_of)
    busy = (
        select(Ticket.account_id)
        .where(Ticket.account_id.is_not(None))
        .where(Ticket.created_at >= end - timedelta(days=repeat.window_days))
        .where(Ticket.created_at < end)
        .group_by(Ticket.account_id)
        .having(func.count() >= repeat.min_tickets)
    )
    return set(session.scalars(busy))
