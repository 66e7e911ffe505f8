"""Support KPIs of the CS unit, weekly and per segment, from tickets and escalations.

Tickets are counted in the week they were created (reply, resolution, first-contact
resolution and CSAT included), so a week's figures settle as its tickets are solved. Until
`SETTLED` of a week's tickets are solved its resolution time and first-contact resolution are
left out of the weekly series: they would count only the tickets solved quickly (the last
weeks' resolution time read as a steep fall on every book).
Times are means (portable SQL). First-contact resolution: solved with at most one public
reply and never reopened. A repeat issue is one (account, tag) pair that reached
`REPEAT_AT` tickets within the window, counted in the week its third ticket arrived
(pulsehub's own tags are ignored).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from model.own_tags import customer_tags
from model.sql_days import utc_day
from model.tables import Account, Escalation, Ticket
from reporting.common import SOLVED_TICKET_STATES, ratio, to_date, week_start

WEEKS = 12
REPEAT_AT = 3
SETTLED = 0.95  # share of a week's tickets solved before its resolution figures are shown
KPIS = ("first_reply_h", "resolution_h", "fcr", "csat", "tickets_per_customer",
        "escalations_per_customer", "repeat_per_customer")  # fmt: skip


@dataclass
class Tally:
    """Sums that KPIs are ratios of; added up per week and per segment."""

    tickets: int = 0
    frt_sum: float = 0.0
    frt_n: int = 0
    res_sum: float = 0.0
    res_n: int = 0
    solved: int = 0
    fcr: int = 0
    good: int = 0
    bad: int = 0
    escalations: int = 0
    repeats: int = 0
    customers: int = 0

    def add(self, other: Tally) -> None:
        for k in self.__dataclass_fields__:
            if k != "customers":
                setattr(self, k, getattr(self, k) + getattr(other, k))

    def kpis(self, *, settled_only: bool = False) -> dict[str, float | None]:
        """The ratios; with `settled_only`, none for resolution while too few are solved."""
        unsettled = settled_only and self.solved < SETTLED * self.tickets
        return {
            "first_reply_h": ratio(self.frt_sum / 60, self.frt_n),
            "resolution_h": None if unsettled else ratio(self.res_sum / 60, self.res_n),
            "fcr": None if unsettled else ratio(self.fcr, self.solved),
            "csat": ratio(self.good, self.good + self.bad),
            "tickets_per_customer": ratio(self.tickets, self.customers),
            "escalations_per_customer": ratio(self.escalations, self.customers),
            "repeat_per_customer": ratio(self.repeats, self.customers),
        }


@dataclass
class SupportKpis:
    weeks: list[dt.date]
    total: dict[str, float | None]
    by_week: dict[dt.date, dict[str, float | None]]
    by_segment: dict[str, dict[str, float | None]]
    tallies: dict[str, Tally] = field(default_factory=dict)
    settled: float = SETTLED


def load_support(session: Session, day: dt.date, weeks: int = WEEKS) -> SupportKpis:
    start = week_start(day) - dt.timedelta(weeks=weeks - 1)
    since = dt.datetime.combine(start, dt.time(), dt.UTC)
    seg = func.coalesce(Account.segment, "unknown")
    customers = dict(
        session.execute(  # type: ignore[arg-type]
            select(seg, func.count()).where(Account.is_deleted.is_(False)).group_by(seg)
        ).all()
    )
    cells: dict[tuple[dt.date, str], Tally] = defaultdict(Tally)
    day_col = utc_day(session, Ticket.created_at)
    solved = Ticket.status.in_(SOLVED_TICKET_STATES)
    for d, s, n, frt_s, frt_n, res_s, res_n, n_solved, fcr, good, bad in session.execute(
        select(
            day_col, seg, func.count(),
            func.coalesce(func.sum(Ticket.first_reply_minutes), 0), func.count(Ticket.first_reply_minutes),
            func.coalesce(func.sum(case((solved, Ticket.full_resolution_minutes))), 0),
            func.count(case((solved, Ticket.full_resolution_minutes))),
            func.count(case((solved, 1))),
            func.count(case((and_(solved, func.coalesce(Ticket.replies, 0) <= 1,
                                  func.coalesce(Ticket.reopens, 0) == 0), 1))),
            func.count(case((Ticket.csat == "good", 1))), func.count(case((Ticket.csat == "bad", 1))),
        )
        .join(Account, Account.id == Ticket.account_id)
        .where(Ticket.created_at >= since, Ticket.status != "deleted")
        .group_by(day_col, seg)
    ):  # fmt: skip
        cells[(week_start(to_date(d)), s)].add(
            Tally(n, float(frt_s), frt_n, float(res_s), res_n, n_solved, fcr, good, bad)
        )
    esc_day = utc_day(session, Escalation.opened_at)
    for d, s, n in session.execute(
        select(esc_day, seg, func.count())
        .join(Account, Account.id == Escalation.account_id)
        .where(Escalation.opened_at >= since)
        .group_by(esc_day, seg)
    ):
        cells[(week_start(to_date(d)), s)].escalations += n
    for (w, s), n in repeat_issues(session, since).items():
        cells[(w, s)].repeats += n
    return _roll_up(cells, customers, [start + dt.timedelta(weeks=i) for i in range(weeks)])


def repeat_issues(session: Session, since: dt.datetime) -> dict[tuple[dt.date, str], int]:
    """Repeat issues per (week, segment): an account's tag reaching REPEAT_AT tickets."""
    counts: dict[tuple[int, str], int] = defaultdict(int)
    out: dict[tuple[dt.date, str], int] = defaultdict(int)
    created = utc_day(session, Ticket.created_at)  # a day: no datetime decoding per row
    rows = session.execute(
        select(Ticket.account_id, created, Ticket.tags, func.coalesce(Account.segment, "unknown"))
        .join(Account, Account.id == Ticket.account_id)
        .where(Ticket.created_at >= since, Ticket.status != "deleted")
        .order_by(Ticket.account_id, Ticket.created_at)
    )
    for aid, day, tags, seg in rows:
        for tag in set(customer_tags(tags or [])):
            counts[(aid, tag)] += 1
            if counts[(aid, tag)] == REPEAT_AT:
                out[(week_start(to_date(day)), seg)] += 1
    return out


def _roll_up(
    cells: dict[tuple[dt.date, str], Tally], customers: dict[str, int], weeks: list[dt.date]
) -> SupportKpis:
    all_customers = sum(customers.values())
    total = Tally(customers=all_customers)
    week_t = {w: Tally(customers=all_customers) for w in weeks}
    seg_t = {s: Tally(customers=n) for s, n in customers.items()}
    for (w, s), t in cells.items():
        total.add(t)
        week_t.setdefault(w, Tally(customers=all_customers)).add(t)
        seg_t.setdefault(s, Tally()).add(t)
    return SupportKpis(
        weeks=weeks,
        total=total.kpis(),
        by_week={w: week_t[w].kpis(settled_only=True) for w in weeks},
        by_segment={s: t.kpis() for s, t in sorted(seg_t.items())},
        tallies={"total": total},
    )
