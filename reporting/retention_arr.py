"""ARR history and renewals due, derived from closed opportunities (pure; no database).

Per account, closed deals are replayed in date order:
- a won **renewal** sets the account's ARR to the annualized sum of the renewals won that
  day (co-termed contracts renewed together add up); a lost one ends the contract (ARR 0);
- a won **new business** deal starts a contract (or adds a product to a running one);
- a won **expansion** adds its annual value, a won **contraction** takes it away;
- every amount is annualized: amount x 12 / term months (a 3-year deal of 300k is 100k ARR).
Each contract has a due date (start + term); a renewal closed by the due date is on time,
within the grace window late, and no renewal by due + grace is a lapse (ARR 0 from then on).
A renewal won after a loss or lapse is a win-back: new ARR, not a renewal of the old one.
"""

from __future__ import annotations

import calendar
import datetime as dt
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from reporting.retention_config import Renewals

ON_TIME, LATE, LOST, LAPSED, PENDING = "on_time", "late", "lost", "lapsed", "pending"
MOVED = "moved"  # lost by a child whose family kept the ARR that day: a move, not a loss


@dataclass(frozen=True, slots=True)
class Deal:
    """A closed opportunity as retention reads it."""

    account_id: int
    type: str | None
    amount: float | None
    close_date: dt.date
    is_won: bool
    term_months: int | None = None


@dataclass(frozen=True, slots=True)
class Customer:
    """An account's attributes for grouping, and what the account row itself says."""

    id: int
    parent_id: int | None = None
    segment: str | None = None
    tier: str | None = None
    csm: str | None = None
    customer_since: dt.date | None = None
    arr: float | None = None
    churned_stage: bool = False


@dataclass(frozen=True, slots=True)
class RenewalDue:
    """One contract's renewal: when it was due, how it ended and the ARR it carried."""

    account_id: int
    due: dt.date
    outcome: str  # ON_TIME | LATE | LOST | LAPSED | PENDING | MOVED
    arr_due: float
    closed: dt.date | None = None


@dataclass(slots=True)
class ArrLine:
    """An account's ARR as steps: `levels[i]` holds from `days[i]` on (inclusive)."""

    days: list[dt.date] = field(default_factory=list)
    levels: list[float] = field(default_factory=list)

    def set(self, day: dt.date, arr: float) -> None:
        arr = round(max(arr, 0.0), 2)
        if self.days and self.days[-1] == day:
            self.levels[-1] = arr
        elif not self.levels or self.levels[-1] != arr:
            self.days.append(day)
            self.levels.append(arr)

    def before(self, day: dt.date) -> float:
        """ARR in effect at the start of `day` (every change dated before it applied)."""
        i = bisect_left(self.days, day)
        return self.levels[i - 1] if i else 0.0

    def first_paid(self) -> dt.date | None:
        return next((d for d, v in zip(self.days, self.levels, strict=True) if v > 0), None)


def add_months(day: dt.date, months: int) -> dt.date:
    y, m = divmod(day.month - 1 + months, 12)
    year, month = day.year + y, m + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def annual(deal: Deal) -> float:
    """The deal's annual value: amount x 12 / term (no term: the amount is a year's)."""
    amount = abs(deal.amount or 0.0)
    return amount * 12.0 / deal.term_months if deal.term_months else amount


@dataclass(slots=True)
class _Contract:
    line: ArrLine
    renewals: list[RenewalDue]
    rules: Renewals
    arr: float = 0.0
    alive: bool = False
    due: dt.date | None = None
    seen: bool = False

    def put(self, day: dt.date, arr: float) -> None:
        self.arr = max(arr, 0.0)
        self.line.set(day, self.arr)

    def lapse_before(self, account: int, day: dt.date) -> None:
        """No renewal by due + grace before `day`: the contract lapsed (churn)."""
        if self.alive and self.due is not None:
            end = self.due + dt.timedelta(days=self.rules.grace_days)
            if end < day:
                self.renewals.append(RenewalDue(account, self.due, LAPSED, self.arr))
                self.put(end, 0.0)
                self.alive, self.due = False, None

    def start(self, day: dt.date, arr: float, term: int) -> None:
        self.put(day, arr)
        self.alive, self.due = arr > 0, add_months(day, term)


def _term(deals: Sequence[Deal], default: int) -> int:
    biggest = max(deals, key=annual)
    return biggest.term_months or default


def account_history(
    account: int, deals: Iterable[Deal], rules: Renewals, as_of: dt.date
) -> tuple[ArrLine, list[RenewalDue]]:
    """Replay one account's closed deals (on or before `as_of`) into ARR steps and renewals."""
    c = _Contract(ArrLine(), [], rules)
    by_day: dict[dt.date, list[Deal]] = {}
    for d in sorted(deals, key=lambda d: d.close_date):
        if d.close_date <= as_of:
            by_day.setdefault(d.close_date, []).append(d)
    for day, todays in by_day.items():
        c.lapse_before(account, day)
        renewals = [d for d in todays if d.type in rules.renewal_types]
        if renewals:
            _renew(c, account, day, renewals)
        for d in todays:
            if not d.is_won or d.type in rules.renewal_types:
                continue
            term = d.term_months or rules.default_term_months
            if d.type in rules.contraction_types or (d.amount or 0.0) < 0:
                c.put(day, c.arr - annual(d))
                c.alive = c.alive and c.arr > 0
            elif c.alive:  # an expansion, or another product, on the running contract
                c.put(day, c.arr + annual(d))
            else:  # new business (or an expansion with no contract on record): a start
                c.start(day, annual(d), term)
        c.seen = True
    c.lapse_before(account, as_of + dt.timedelta(days=1))
    if c.alive and c.due is not None and c.due <= as_of:
        c.renewals.append(RenewalDue(account, c.due, PENDING, c.arr))
    return c.line, c.renewals


def _renew(c: _Contract, account: int, day: dt.date, renewals: list[Deal]) -> None:
    won = [d for d in renewals if d.is_won]
    value = sum(annual(d) for d in won)
    term = _term(won or renewals, c.rules.default_term_months)
    if not c.alive:
        if not c.seen:  # history starts at a renewal: its contract was due that day
            due_arr = value if won else sum(annual(d) for d in renewals)
            c.renewals.append(RenewalDue(account, day, ON_TIME if won else LOST, due_arr, day))
        if won:  # a first sight, or a win-back after a loss: new ARR
            c.start(day, value, term)
        return
    due = c.due or day
    if not won:
        c.renewals.append(RenewalDue(account, due, LOST, c.arr, day))
        c.put(day, 0.0)
        c.alive, c.due = False, None
        return
    c.renewals.append(RenewalDue(account, due, ON_TIME if day <= due else LATE, c.arr, day))
    c.put(day, value)
    c.alive, c.due = value > 0, add_months(due, term)


def close_stage_churn(
    line: ArrLine, renewals: list[RenewalDue], account: int, as_of: dt.date
) -> None:
    """The account's lifecycle stage says it left: its ARR ends on its pending due or today."""
    arr = line.before(as_of + dt.timedelta(days=1))
    if arr <= 0:
        return
    pending = next((r for r in renewals if r.outcome == PENDING), None)
    if pending is not None:
        renewals.remove(pending)
        renewals.append(RenewalDue(account, pending.due, LOST, arr, as_of))
    line.set(as_of, 0.0)
