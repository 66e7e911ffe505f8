"""Retention metrics over families of accounts: GRR, NRR, churn, renewal rate, cohorts (pure).

A family is a top-level account with its children (parent/child rolled up): retention is
measured on the family's ARR, so a contract moving from a child to its parent is neither
churn nor expansion. For a window [start, end) each family with ARR at the start is in the
window's base; its ARR at the end (every change inside the window netted) makes it
churned (0), contracted (less), expanded (more) or flat. Families with no ARR at the start
and some at the end are new business, outside GRR/NRR.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from reporting.retention_arr import (
    LAPSED,
    LATE,
    LOST,
    MOVED,
    ON_TIME,
    PENDING,
    ArrLine,
    Customer,
    RenewalDue,
    add_months,
)


@dataclass(slots=True)
class Family:
    """A top-level account and its children, with the ARR lines of all of them."""

    root: Customer
    lines: list[ArrLine] = field(default_factory=list)
    members: set[int] = field(default_factory=set)
    _total: ArrLine | None = None

    def arr_before(self, day: dt.date) -> float:
        """The family's ARR at the start of `day` (its members' lines summed once, then cached:
        add no line after the first call)."""
        if self._total is None:
            self._total = self._sum()
        return self._total.before(day)

    def _sum(self) -> ArrLine:
        if len(self.lines) == 1:
            return self.lines[0]
        total = ArrLine()
        for day in sorted({d for line in self.lines for d in line.days}):
            total.set(day, sum(line.before(day + dt.timedelta(days=1)) for line in self.lines))
        return total

    def started(self) -> dt.date | None:
        firsts = [d for d in (line.first_paid() for line in self.lines) if d is not None]
        return min(firsts) if firsts else self.root.customer_since

    def cohort(self) -> str:
        start = self.started()
        return quarter_label(start) if start else "unknown"


@dataclass(slots=True)
class Movement:
    """The ARR bridge of one window: start, expansion, contraction, churn, and logos."""

    start_arr: float = 0.0
    expansion: float = 0.0
    contraction: float = 0.0
    churn: float = 0.0
    new_arr: float = 0.0
    start_logos: int = 0
    churned_logos: int = 0
    new_logos: int = 0

    @property
    def grr(self) -> float | None:
        if not self.start_arr:
            return None
        return min(1.0, (self.start_arr - self.contraction - self.churn) / self.start_arr)

    @property
    def nrr(self) -> float | None:
        if not self.start_arr:
            return None
        kept = self.start_arr + self.expansion - self.contraction - self.churn
        return kept / self.start_arr

    @property
    def logo_churn(self) -> float | None:
        return self.churned_logos / self.start_logos if self.start_logos else None

    @property
    def revenue_churn(self) -> float | None:
        return self.churn / self.start_arr if self.start_arr else None

    @property
    def end_arr(self) -> float:
        return self.start_arr + self.expansion - self.contraction - self.churn + self.new_arr


@dataclass(slots=True)
class RenewalCounts:
    """Renewals due in a window by outcome; the rate counts decided ones only."""

    on_time: int = 0
    late: int = 0
    lost: int = 0
    lapsed: int = 0
    pending: int = 0
    moved: int = 0
    arr_due: float = 0.0
    arr_renewed: float = 0.0

    @property
    def decided(self) -> int:
        return self.on_time + self.late + self.lost + self.lapsed

    @property
    def rate(self) -> float | None:
        return (self.on_time + self.late) / self.decided if self.decided else None

    @property
    def on_time_rate(self) -> float | None:
        return self.on_time / self.decided if self.decided else None


def movement(families: Iterable[Family], start: dt.date, end: dt.date) -> Movement:
    """The ARR bridge of [start, end): each family's start ARR against its end ARR."""
    m = Movement()
    for f in families:
        a, b = f.arr_before(start), f.arr_before(end)
        if a > 0:
            m.start_arr += a
            m.start_logos += 1
            if b <= 0:
                m.churn += a
                m.churned_logos += 1
            elif b > a:
                m.expansion += b - a
            else:
                m.contraction += a - b
        elif b > 0:
            m.new_arr += b
            m.new_logos += 1
    return m


def renewal_counts(renewals: Iterable[RenewalDue], start: dt.date, end: dt.date) -> RenewalCounts:
    """Renewals due in [start, end) by outcome."""
    c = RenewalCounts()
    for r in renewals:
        if not start <= r.due < end:
            continue
        if r.outcome == ON_TIME:
            c.on_time += 1
        elif r.outcome == LATE:
            c.late += 1
        elif r.outcome == LOST:
            c.lost += 1
        elif r.outcome == LAPSED:
            c.lapsed += 1
        elif r.outcome == PENDING:
            c.pending += 1
        elif r.outcome == MOVED:
            c.moved += 1
        if r.outcome in (ON_TIME, LATE, LOST, LAPSED):
            c.arr_due += r.arr_due
            c.arr_renewed += r.arr_due if r.outcome in (ON_TIME, LATE) else 0.0
    return c


def quarter_start(day: dt.date) -> dt.date:
    return dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def quarter_label(day: dt.date) -> str:
    return f"{day.year} Q{(day.month - 1) // 3 + 1}"


def last_quarters(as_of: dt.date, n: int) -> list[tuple[dt.date, dt.date]]:
    """The n latest quarters complete on `as_of` (its last day counts), oldest first."""
    end = quarter_start(as_of + dt.timedelta(days=1))
    return [(add_months(end, -3 * (n - i)), add_months(end, -3 * (n - i - 1))) for i in range(n)]


def last_months(as_of: dt.date, n: int) -> list[tuple[dt.date, dt.date]]:
    """The n latest months complete on `as_of` (its last day counts), oldest first."""
    end = (as_of + dt.timedelta(days=1)).replace(day=1)
    return [(add_months(end, -(n - i)), add_months(end, -(n - i - 1))) for i in range(n)]


@dataclass(slots=True)
class CohortRow:
    """One start quarter's families and the share still with us k quarters later."""

    cohort: str
    logos: int
    start_arr: float
    logo_retention: list[float] = field(default_factory=list)
    revenue_retention: list[float] = field(default_factory=list)


def cohort_table(families: Sequence[Family], as_of: dt.date, most: int = 12) -> list[CohortRow]:
    """Logo and revenue retention by quarters since start, for the `most` latest cohorts.

    Quarter 0 is the end of the start quarter (every family counted then is 100%); cell k is
    the end of the k-th quarter after it, shown only once that quarter is complete."""
    by_cohort: dict[dt.date, list[Family]] = {}
    for f in families:
        start = f.started()
        if start is not None:
            by_cohort.setdefault(quarter_start(start), []).append(f)
    rows = []
    for q in sorted(by_cohort)[-most:]:
        ends = []
        k = 1
        while (end := add_months(q, 3 * k)) <= as_of + dt.timedelta(days=1):
            ends.append(end)
            k += 1
        if not ends:
            continue
        base = [(f, f.arr_before(ends[0])) for f in by_cohort[q]]
        base = [(f, a) for f, a in base if a > 0]
        if not base:
            continue
        total = sum(a for _, a in base)
        row = CohortRow(quarter_label(q), len(base), round(total, 2))
        for end in ends:
            arrs = [f.arr_before(end) for f, _ in base]
            row.logo_retention.append(sum(1 for a in arrs if a > 0) / len(base))
            row.revenue_retention.append(sum(arrs) / total)
        rows.append(row)
    return rows


def group_by(
    families: Iterable[Family], key: Callable[[Family], str | None]
) -> dict[str, list[Family]]:
    out: dict[str, list[Family]] = {}
    for f in families:
        out.setdefault(key(f) or "(none)", []).append(f)
    return dict(sorted(out.items()))
