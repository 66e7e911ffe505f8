"""Onboarding and adoption: time to first value and milestones by cohort, features and DAU/MAU.

Reads the measures scoring stored in each account's latest snapshot (`signals`):
`time_to_first_value_days`, `onboarding_milestones` (share of 4: first login, three
features, a quarter and half of the seats active), `feature_breadth`, `dau_mau`.
An account is *activated* with at least 3 of the 4 milestones and *onboarded* with all 4.
Cohort = the month the account became a customer.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import func, not_, select
from sqlalchemy.orm import Session

from model.lifecycle import churned_on
from model.tables import Account, HealthSnapshot
from reporting.common import latest_snapshots, ratio, signal_column, trend_days

COHORT_MONTHS = 12
ACTIVATED = 0.75


@dataclass
class CohortRow:
    cohort: str
    accounts: int
    ttfv_days: float | None
    activated: float | None
    onboarded: float | None


@dataclass
class Adoption:
    cohorts: list[CohortRow]
    by_segment: dict[str, dict[str, float | None]]
    dau_mau_trend: list[tuple[dt.date, float | None]]
    breadth_histogram: dict[int, int]


def _month(day: dt.date, back: int) -> dt.date:
    y, m = divmod(day.year * 12 + day.month - 1 - back, 12)
    return dt.date(y, m + 1, 1)


def load_adoption(session: Session, day: dt.date) -> Adoption:
    """One pass over the accounts' latest snapshots (four JSON fields each), folded in Python."""
    latest = latest_snapshots()
    names = ("time_to_first_value_days", "onboarding_milestones", "feature_breadth", "dau_mau")
    rows = session.execute(
        select(func.coalesce(Account.segment, "unknown"), Account.customer_since,
               *[signal_column(session, n, latest) for n in names])
        .join(latest, latest.c.account_id == Account.id)
        .where(Account.is_deleted.is_(False), not_(churned_on(day)))  # current customers only
    ).all()  # fmt: skip
    start = f"{_month(day, COHORT_MONTHS - 1):%Y-%m}"
    months: dict[str, _Sums] = defaultdict(_Sums)
    segments: dict[str, _Sums] = defaultdict(_Sums)
    histogram: dict[int, int] = defaultdict(int)
    for seg, since, ttfv, ms, breadth, dau_mau in rows:
        segments[seg].add(ttfv, ms, breadth, dau_mau)
        if since is not None and f"{since:%Y-%m}" >= start:
            months[f"{since:%Y-%m}"].add(ttfv, ms, breadth, dau_mau)
        if breadth is not None:
            histogram[min(int(breadth), 10)] += 1
    cohorts = [
        CohortRow(k, v.n, v.mean("ttfv"), ratio(v.activated, v.ms_n), ratio(v.onboarded, v.ms_n))
        for k, v in sorted(months.items())
    ]
    by_segment = {
        s: {"accounts": v.n, "dau_mau": v.mean("dau_mau"), "feature_breadth": v.mean("breadth"),
            "activated": ratio(v.activated, v.ms_n)}
        for s, v in sorted(segments.items())
    }  # fmt: skip
    bars = {b: histogram.get(b, 0) for b in range(max(histogram, default=-1) + 1)}
    return Adoption(cohorts, by_segment, dau_mau_trend(session, day), bars)


@dataclass
class _Sums:
    n: int = 0
    ms_n: int = 0
    activated: int = 0
    onboarded: int = 0
    sums: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def add(
        self, ttfv: float | None, ms: float | None, breadth: float | None, dau_mau: float | None
    ) -> None:
        self.n += 1
        for key, v in (("ttfv", ttfv), ("breadth", breadth), ("dau_mau", dau_mau)):
            if v is not None:
                self.sums[key] += v
                self.counts[key] += 1
        if ms is not None:
            self.ms_n += 1
            self.activated += ms >= ACTIVATED
            self.onboarded += ms >= 1.0

    def mean(self, key: str) -> float | None:
        return ratio(self.sums[key], self.counts[key])


def dau_mau_trend(session: Session, day: dt.date) -> list[tuple[dt.date, float | None]]:
    """Mean DAU/MAU across accounts on weekly snapshot days."""
    days = trend_days(session, day)
    if not days:
        return []
    dm = signal_column(session, "dau_mau")
    rows: dict[dt.date, float | None] = dict(
        session.execute(  # type: ignore[arg-type]
            select(HealthSnapshot.as_of, func.avg(dm))
            .join(Account, Account.id == HealthSnapshot.account_id)
            .where(HealthSnapshot.as_of.in_(days), Account.is_deleted.is_(False))
            .group_by(HealthSnapshot.as_of)
        ).all()
    )
    return [(d, rows.get(d)) for d in days]
