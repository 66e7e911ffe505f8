"""The escalations inbox: active (or all) escalations with their account, filtered in SQL."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from escalation.triage import is_snoozed, snoozed_until
from model.tables import Account, Escalation, RcaReview, utcnow
from reporting.common import OPEN_ESCALATION_STATES
from reporting.rcas import rca_state

PAGE_SIZE = 100
STATES = ("active", "open", "acknowledged", "resolved", "all")


@dataclass
class InboxFilter:
    state: str = "active"
    severity: str = ""
    owner: str = ""
    segment: str = ""
    min_age_days: int = 0
    snoozed: bool = False  # include snoozed ones
    page: int = 1

    def query(self, **change: Any) -> str:
        """This filter as a query string, with `change` applied (links keep the filter)."""
        from urllib.parse import urlencode

        values = {**self.__dict__, **change}
        kept = {k: v for k, v in values.items() if v not in ("", 0, False, None)}
        return urlencode({k: (1 if v is True else v) for k, v in kept.items()})


@dataclass
class Inbox:
    rows: list[dict[str, Any]]
    total: int
    pages: int
    snoozed_hidden: int
    owners: list[str] = field(default_factory=list)
    segments: list[str] = field(default_factory=list)


def load_inbox(session: Session, f: InboxFilter, now: dt.datetime | None = None) -> Inbox:
    now = now or utcnow()
    stmt = select(Escalation, Account.name, Account.owner_name, Account.segment, Account.arr).join(
        Account, Account.id == Escalation.account_id
    )
    if f.state == "active":
        stmt = stmt.where(Escalation.state.in_(OPEN_ESCALATION_STATES))
    elif f.state in ("open", "acknowledged", "resolved"):
        stmt = stmt.where(Escalation.state == f.state)
    if f.severity:
        stmt = stmt.where(Escalation.severity == f.severity)
    if f.owner:
        stmt = stmt.where(Account.owner_name == f.owner)
    if f.segment:
        stmt = stmt.where(Account.segment == f.segment)
    if f.min_age_days > 0:
        stmt = stmt.where(Escalation.opened_at <= now - dt.timedelta(days=f.min_age_days))
    stmt = stmt.order_by(Escalation.severity, Escalation.opened_at)
    rows, hidden = [], 0
    for esc, name, owner, segment, arr in session.execute(stmt):
        if not f.snoozed and is_snoozed(esc, now):
            hidden += 1
            continue
        rows.append({
            "esc": esc, "account": name, "owner": owner, "segment": segment, "arr": arr,
            "age_days": (now - esc.opened_at).days, "snoozed_until": snoozed_until(esc),
        })  # fmt: skip
    total = len(rows)
    start = (f.page - 1) * PAGE_SIZE
    owners = session.execute(
        select(Account.owner_name).where(Account.owner_name.is_not(None)).distinct()
    ).scalars()
    segments = session.execute(
        select(Account.segment).where(Account.segment.is_not(None)).distinct()
    ).scalars()
    page = rows[start : start + PAGE_SIZE]
    _add_rcas(session, page, now)
    return Inbox(
        rows=page,
        total=total,
        pages=max(1, -(-total // PAGE_SIZE)),
        snoozed_hidden=hidden,
        owners=sorted(o for o in owners if o),
        segments=sorted(s for s in segments if s),
    )


def _add_rcas(session: Session, rows: list[dict[str, Any]], now: dt.datetime) -> None:
    """Each row's RCA (owed once its engineering ticket is solved), or None."""
    ids = [r["esc"].id for r in rows]
    reviews = {
        r.escalation_id: r
        for r in session.scalars(select(RcaReview).where(RcaReview.escalation_id.in_(ids)))
    } if ids else {}  # fmt: skip
    for r in rows:
        review = reviews.get(r["esc"].id)
        r["rca"] = None if review is None else {
            "state": rca_state(review, now), "due_at": review.due_at, "done_at": review.done_at
        }  # fmt: skip


def recent_escalations(
    session: Session, state: str | None, account_id: int | None, limit: int
) -> list[tuple[Escalation, str]]:
    """The most recently updated escalations with their account's name, optionally filtered."""
    query = select(Escalation, Account.name).join(Account, Account.id == Escalation.account_id)
    if state:
        query = query.where(Escalation.state == state)
    if account_id is not None:
        query = query.where(Escalation.account_id == account_id)
    query = query.order_by(Escalation.updated_at.desc(), Escalation.id.desc()).limit(limit)
    return [(e, name) for e, name in session.execute(query).all()]
