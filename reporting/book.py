"""One owner's book: their current customers (churned accounts left out) with health and
risk, renewals due, open escalations and the tasks pulsehub created for them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import not_, select
from sqlalchemy.orm import Session

from model.lifecycle import churned_on
from model.tables import Account, Escalation, OutboxItem
from reporting.common import OPEN_ESCALATION_STATES, as_of_day, latest_snapshots

RENEWAL_WINDOW_DAYS = 90
RISK_ORDER = {"high": 0, "medium": 1, "low": 2}


@dataclass
class Book:
    owner: str
    accounts: list[dict[str, Any]] = field(default_factory=list)
    renewals: list[dict[str, Any]] = field(default_factory=list)
    escalations: list[tuple[Escalation, str]] = field(default_factory=list)
    tasks: list[dict[str, Any]] = field(default_factory=list)

    @property
    def arr(self) -> float:
        return sum(a["arr"] or 0 for a in self.accounts)


def owners(session: Session) -> list[str]:
    names = session.execute(
        select(Account.owner_name)
        .where(Account.owner_name.is_not(None), Account.is_deleted.is_(False))
        .distinct()
    ).scalars()
    return sorted(n for n in names if n)


def load_book(session: Session, owner: str) -> Book:
    book = Book(owner)
    latest = latest_snapshots()
    rows = session.execute(
        select(Account.id, Account.name, Account.segment, Account.arr, Account.renewal_date,
               Account.owner_crm_id, latest.c.band, latest.c.score, latest.c.risk_level,
               latest.c.renewal_risk)
        .outerjoin(latest, latest.c.account_id == Account.id)
        .where(Account.owner_name == owner, Account.is_deleted.is_(False),
               not_(churned_on(as_of_day(session))))
    ).mappings()  # fmt: skip
    book.accounts = sorted(
        (dict(r) for r in rows),
        key=lambda a: (RISK_ORDER.get(a["risk_level"] or "", 3), -(a["arr"] or 0)),
    )
    today = as_of_day(session)
    horizon = today + dt.timedelta(days=RENEWAL_WINDOW_DAYS)
    book.renewals = sorted(
        (a for a in book.accounts if a["renewal_date"] and today <= a["renewal_date"] <= horizon),
        key=lambda a: a["renewal_date"],
    )
    ids = [a["id"] for a in book.accounts]
    names = {a["id"]: a["name"] for a in book.accounts}
    for start in range(0, len(ids), 500):
        for esc in session.scalars(
            select(Escalation).where(
                Escalation.account_id.in_(ids[start : start + 500]),
                Escalation.state.in_(OPEN_ESCALATION_STATES),
            )
        ):
            book.escalations.append((esc, names[esc.account_id]))
    book.escalations.sort(key=lambda e: (e[0].severity, e[0].opened_at))
    book.tasks = _tasks(session, {a["owner_crm_id"] for a in book.accounts if a["owner_crm_id"]})
    return book


def _tasks(session: Session, owner_ids: set[str]) -> list[dict[str, Any]]:
    """Owner tasks pulsehub queued or created for these owners, newest first."""
    if not owner_ids:
        return []
    out = []
    for item in session.scalars(
        select(OutboxItem).where(OutboxItem.kind == "crm_task").order_by(OutboxItem.id.desc())
    ):
        p = item.payload or {}
        if p.get("owner_id") in owner_ids:
            out.append({
                "subject": p.get("subject"), "due": p.get("due_date"), "priority": p.get("priority"),
                "status": item.status, "created_id": (item.result or {}).get("created_id"),
            })  # fmt: skip
    return out
