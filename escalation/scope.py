"""Which accounts an incremental run must re-evaluate besides those whose inputs changed.

An account's decisions depend on its own facts (scored with its inputs: the caller passes
the accounts whose inputs digest changed), and on three things that move without them:

- time: a resolved escalation's cooldown ends, an active one ages (its severity, update and
  acknowledgement rules read `now`), so every account with an active escalation, or one
  still cooling down or whose cooldown ended within the day, is re-evaluated;
- the rest of the book: the repeated-issue rule compares an account's ticket clusters with
  the book's topic mix, which any account's new ticket moves; only an account with at least
  `min_tickets` tickets in the rule's window can hold a cluster, so those are re-evaluated;
- people: an escalation resolved, acknowledged or snoozed by hand (its `updated_at`);
- a crash: accounts re-scored after the last completed run finished, whose escalation step
  may never have run.

Everything here is read from committed rows.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from escalation.config import EscalationConfig
from escalation.fact_models import end_of_day
from model.tables import Escalation, HealthSnapshot, SyncRun, Ticket

ACTIVE = ("open", "acknowledged")
DONE = ("succeeded", "partial")


def scored_after_last_run(session: Session, as_of: date) -> set[int]:
    """Accounts re-scored after the last completed run finished: a run that crashed (or was
    stopped) between scoring and escalating left their decisions to this one. Near-real-time
    refreshes and dry runs do not count as completed runs of the book."""
    last = session.scalar(
        select(func.max(SyncRun.finished_at)).where(
            SyncRun.status.in_(DONE),
            SyncRun.dry_run.is_(False),
            SyncRun.kind.not_like("refresh%"),
        )
    )
    q = select(HealthSnapshot.account_id).where(HealthSnapshot.as_of == as_of)
    if last is not None:
        q = q.where(HealthSnapshot.computed_at > last)
    return set(session.scalars(q))


def time_or_book_dependent(
    session: Session, as_of: date, now: datetime, config: EscalationConfig
) -> set[int]:
    """Accounts whose decisions can change with no change to their own inputs."""
    day_start = now - timedelta(days=1)
    escalated = select(Escalation.account_id).where(
        or_(
            Escalation.state.in_(ACTIVE),
            Escalation.cooldown_until >= day_start,
            Escalation.review_due_at >= day_start,
            Escalation.updated_at >= day_start,
        )
    )
    out = set(session.scalars(escalated))
    out |= scored_after_last_run(session, as_of)
    return out | cluster_capable(session, as_of, config)


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
