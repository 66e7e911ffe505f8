"""Onboarding and adoption: time to first value and milestones by cohort, features and DAU/MAU.

Reads the measures scoring stored in each account's latest snapshot (`signals`):
`time_to_first_value_days`, `onboarding_milestones` (share of 4: first login, three
features, a quarter and half of the seats active), `feature_breadth`, `dau_mau`.
An account is *activated* with at least 3 of the 4 milestones and *onboarded* with all 4.
Cohort = the month the account became a customer.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from model.tables import Account, HealthSnapshot
from pulsehub.web.queries.common import latest_snapshots, ratio, signal_column, trend_days

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
    latest = latest_snapshots()
    ttfv = signal_column(session, "time_to_first_value_days", latest)
    ms = signal_column(session, "onboarding_milestones", latest)
    breadth = signal_column(session, "feature_breadth", latest)
    dau_mau = signal_column(session, "dau_mau", latest)
    start = _month(day, COHORT_MONTHS - 1)
    joined = select().select_from(Account).join(latest, latest.c.account_id == Account.id)
    live = Account.is_deleted.is_(False)
    cohort_rows = session.execute(
        joined.add_columns(
            Account.customer_since, func.coalesce(func.sum(ttfv), 0.0), func.count(ttfv),
            func.count(ms), func.count(case((ms >= ACTIVATED, 1))), func.count(case((ms >= 1.0, 1))),
        ).where(live, Account.customer_since >= start).group_by(Account.customer_since)
    ).all()  # fmt: skip
    months: dict[str, list[float]] = {}
    for since, ttfv_sum, ttfv_n, n, act, done in cohort_rows:
        acc = months.setdefault(f"{since:%Y-%m}", [0.0, 0, 0, 0, 0])
        for i, v in enumerate((ttfv_sum, ttfv_n, n, act, done)):
            acc[i] += v
    cohorts = [
        CohortRow(k, int(v[2]), ratio(v[0], v[1]), ratio(v[3], v[2]), ratio(v[4], v[2]))
        for k, v in sorted(months.items())
    ]
    seg = func.coalesce(Account.segment, "unknown")
    by_segment = {
        s: {"accounts": n, "dau_mau": d, "feature_breadth": b, "activated": a / m if m else None}
        for s, n, d, b, a, m in session.execute(
            joined.add_columns(seg, func.count(), func.avg(dau_mau), func.avg(breadth),
                               func.count(case((ms >= ACTIVATED, 1))), func.count(ms))
            .where(live).group_by(seg).order_by(seg)
        )
    }  # fmt: skip
    histogram: dict[int, int] = {}
    bucket = func.floor(breadth)
    for b, n in session.execute(
        joined.add_columns(bucket, func.count()).where(live, breadth.is_not(None)).group_by(bucket)
    ):
        histogram[min(int(b), 10)] = histogram.get(min(int(b), 10), 0) + n
    return Adoption(
        cohorts, by_segment, dau_mau_trend(session, day), dict(sorted(histogram.items()))
    )


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
