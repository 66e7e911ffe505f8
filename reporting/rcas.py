"""The RCA list: root-cause analyses owed for solved engineering escalations, with their state."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from model.tables import Account, Escalation, RcaReview

STATES = ("all", "overdue", "due", "done")


@dataclass(frozen=True)
class RcaRow:
    escalation_id: int
    account_id: int
    account: str
    title: str
    severity: str
    ticket_id: int | None
    solved_at: dt.datetime
    due_at: dt.datetime
    done_at: dt.datetime | None
    done_by: str | None
    reminded_at: dt.datetime | None
    state: str  # overdue | due | done on time | done late


def rca_state(r: RcaReview, now: dt.datetime) -> str:
    if r.done_at is not None:
        return "done on time" if r.done_at <= r.due_at else "done late"
    return "overdue" if r.due_at < now else "due"


def rca_rows(
    session: Session, now: dt.datetime, state: str = "all", limit: int = 500
) -> list[RcaRow]:
    """RCAs newest solve first, filtered by `state` (overdue, due, done, or all)."""
    query = (
        select(RcaReview, Escalation.title, Escalation.severity, Account.name)
        .join(Escalation, Escalation.id == RcaReview.escalation_id)
        .join(Account, Account.id == RcaReview.account_id)
        .order_by(RcaReview.due_at.asc())
    )
    if state == "done":
        query = query.where(RcaReview.done_at.is_not(None))
    elif state == "overdue":
        query = query.where(RcaReview.done_at.is_(None), RcaReview.due_at < now)
    elif state == "due":
        query = query.where(RcaReview.done_at.is_(None), RcaReview.due_at >= now)
    return [
        RcaRow(
            r.escalation_id,
            r.account_id,
            name,
            title,
            severity,
            r.helpdesk_ticket_id,
            r.solved_at,
            r.due_at,
            r.done_at,
            r.done_by,
            r.reminded_at,
            rca_state(r, now),
        )
        for r, title, severity, name in session.execute(query.limit(limit))
    ]


def first_engineering_ticket(session: Session) -> int | None:
    """The helpdesk ticket of the oldest escalation that opened one (the demo's RCA story)."""
    return session.scalar(
        select(Escalation.helpdesk_ticket_id)
        .where(Escalation.helpdesk_ticket_id.is_not(None))
        .order_by(Escalation.id)
        .limit(1)
    )
