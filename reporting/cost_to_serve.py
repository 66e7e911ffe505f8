"""Cost-to-serve: support effort, escalations and CSM touches priced by the configured rates.

Effort per account over a window (SQL here), priced and grouped per segment (pure):
- support: tickets created x minutes per ticket + agent replies x minutes per reply, at the
  support hourly rate (ticket metrics give elapsed times, not agent time, so handle time is
  estimated from the work units; resolution hours are shown beside it for reference);
- escalations opened x the escalation cost;
- CSM touches: owner tasks created through the outbox x minutes per touch, at the CSM rate.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from model.tables import Account, Escalation, OutboxItem, Ticket
from reporting.retention_config import CostRates

TASK_KIND = "crm_task"


@dataclass(slots=True)
class Effort:
    """One account's (or segment's) service effort in a window."""

    tickets: int = 0
    replies: int = 0
    resolution_minutes: float = 0.0
    escalations: int = 0
    touches: int = 0

    def add(self, other: Effort) -> None:
        self.tickets += other.tickets
        self.replies += other.replies
        self.resolution_minutes += other.resolution_minutes
        self.escalations += other.escalations
        self.touches += other.touches


@dataclass(slots=True)
class CostRow:
    """Priced effort of one group (a segment) against its customers and ARR."""

    group: str
    customers: int
    avg_arr: float
    effort: Effort
    handle_hours: float
    support_cost: float
    escalation_cost: float
    csm_cost: float

    @property
    def total(self) -> float:
        return self.support_cost + self.escalation_cost + self.csm_cost

    @property
    def per_customer(self) -> float | None:
        return self.total / self.customers if self.customers else None

    @property
    def per_arr_dollar(self) -> float | None:
        return self.total / self.avg_arr if self.avg_arr else None


def price(group: str, effort: Effort, customers: int, avg_arr: float, rates: CostRates) -> CostRow:
    """Effort x rates; handle hours are tickets and replies at their minutes each."""
    minutes = effort.tickets * rates.minutes_per_ticket + effort.replies * rates.minutes_per_reply
    hours = minutes / 60.0
    return CostRow(
        group=group,
        customers=customers,
        avg_arr=avg_arr,
        effort=effort,
        handle_hours=round(hours, 1),
        support_cost=round(hours * rates.support_hourly, 2),
        escalation_cost=round(effort.escalations * rates.escalation_cost, 2),
        csm_cost=round(effort.touches * rates.minutes_per_csm_touch / 60.0 * rates.csm_hourly, 2),
    )


def _at(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


def load_effort(session: Session, start: dt.date, end: dt.date) -> dict[int, Effort]:
    """Per account: tickets created, replies, resolution minutes, escalations opened and
    owner tasks created in [start, end)."""
    lo, hi = _at(start), _at(end)
    out: dict[int, Effort] = {}
    tickets = session.execute(
        select(
            Ticket.account_id,
            func.count(),
            func.coalesce(func.sum(Ticket.replies), 0),
            func.coalesce(func.sum(Ticket.full_resolution_minutes), 0.0),
        )
        .where(Ticket.account_id.is_not(None), Ticket.created_at >= lo, Ticket.created_at < hi)
        .group_by(Ticket.account_id)
    )
    for aid, n, replies, minutes in tickets:
        if aid is None:
            continue
        out[aid] = Effort(int(n), int(replies or 0), float(minutes or 0.0))
    escalations = session.execute(
        select(Escalation.account_id, func.count())
        .where(Escalation.opened_at >= lo, Escalation.opened_at < hi)
        .group_by(Escalation.account_id)
    )
    for aid, n in escalations:
        out.setdefault(aid, Effort()).escalations = int(n)
    by_crm_id = dict(
        session.execute(select(Account.crm_id, Account.id).where(Account.crm_id.is_not(None)))
        .tuples()
        .all()
    )
    tasks = session.execute(
        select(OutboxItem.payload).where(
            OutboxItem.kind == TASK_KIND,
            OutboxItem.status != "superseded",
            OutboxItem.created_at >= lo,
            OutboxItem.created_at < hi,
        )
    ).scalars()
    for payload in tasks:
        aid = by_crm_id.get(str((payload or {}).get("what_id")))
        if aid is not None:
            out.setdefault(aid, Effort()).touches += 1
    return out


def cost_by_group(
    effort: Mapping[int, Effort],
    groups: Mapping[str, Iterable[int]],
    customers: Mapping[str, int],
    avg_arr: Mapping[str, float],
    rates: CostRates,
) -> list[CostRow]:
    """Sum the effort of each group's accounts and price it."""
    rows = []
    for name, ids in groups.items():
        total = Effort()
        for aid in ids:
            if aid in effort:
                total.add(effort[aid])
        rows.append(price(name, total, customers.get(name, 0), avg_arr.get(name, 0.0), rates))
    return rows
