"""The overview page's numbers: health mix and its trend, ARR by band, renewals, escalations, movers."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import case, func, not_, select
from sqlalchemy.orm import Session

from model.lifecycle import CHURNED, NOT_YET_CUSTOMER, churned_on, status_on
from model.tables import Account, Escalation, HealthSnapshot
from reporting.common import (
    BANDS,
    OPEN_ESCALATION_STATES,
    RISK_LEVELS,
    SEVERITIES,
    as_of_day,
    latest_snapshots,
    trend_days,
)

RENEWAL_WINDOWS = (30, 60, 90)
MOVERS_LIMIT = 50
NO_SNAPSHOT = "no snapshot yet"
NOT_YET = "customer from a later date"


@dataclass
class RenewalBucket:
    days: int
    accounts: int = 0
    arr: float = 0.0
    by_risk: dict[str, int] = field(default_factory=dict)
    arr_at_risk: float = 0.0


@dataclass
class Overview:
    """`accounts` = sum(bands) + unscored + churned; bands count current customers only."""

    as_of: dt.date
    accounts: int
    bands: dict[str, int]
    unscored: int
    arr_by_band: dict[str, float]
    churned: int
    churned_arr: float
    unscored_reasons: dict[str, int]
    band_trend: list[tuple[dt.date, dict[str, int]]]
    renewals: list[RenewalBucket]
    upcoming: list[dict[str, Any]]
    escalations: dict[str, int]
    movers: list[dict[str, Any]]
    movers_total: int

    @property
    def total_arr(self) -> float:
        return sum(self.arr_by_band.values())

    @property
    def current(self) -> int:
        """Accounts that are customers now (scored or not): the base of the band shares."""
        return self.accounts - self.churned


def load_overview(session: Session, as_of: dt.date | None = None) -> Overview:
    """Every overview figure in a handful of grouped queries."""
    day = as_of or as_of_day(session)
    latest = latest_snapshots()
    per_account = (  # status per account first: PostgreSQL can't group by a correlated subquery
        select(status_on(day).label("status"), latest.c.band, Account.arr)
        .select_from(Account)
        .outerjoin(latest, latest.c.account_id == Account.id)
        .where(Account.is_deleted.is_(False))
        .subquery("per_account")
    )
    a = per_account.c
    bands: dict[str, int] = dict.fromkeys(BANDS, 0)
    arr_by_band: dict[str, float] = dict.fromkeys(BANDS, 0.0)
    reasons: dict[str, int] = {}
    unscored = total = churned = 0
    churned_arr = 0.0
    for st, b, n, arr in session.execute(
        select(a.status, a.band, func.count(), func.coalesce(func.sum(a.arr), 0.0)).group_by(
            a.status, a.band
        )
    ):
        total += n
        if st == CHURNED:  # its last snapshot predates the churn: not a current health
            churned += n
            churned_arr += float(arr)
        elif b is None or st == NOT_YET_CUSTOMER:
            unscored += n
            why = NOT_YET if st == NOT_YET_CUSTOMER else NO_SNAPSHOT
            reasons[why] = reasons.get(why, 0) + n
        else:
            bands[b] = bands.get(b, 0) + n
            arr_by_band[b] = arr_by_band.get(b, 0.0) + float(arr)
    movers, movers_total = band_movers(session, day)
    return Overview(
        as_of=day,
        accounts=total,
        bands=bands,
        unscored=unscored,
        arr_by_band=arr_by_band,
        churned=churned,
        churned_arr=churned_arr,
        unscored_reasons=reasons,
        band_trend=band_trend(session, day),
        renewals=renewal_buckets(session, day),
        upcoming=upcoming_renewals(session, day),
        escalations=open_escalations(session),
        movers=movers,
        movers_total=movers_total,
    )


def band_trend(session: Session, day: dt.date) -> list[tuple[dt.date, dict[str, int]]]:
    days = trend_days(session, day)
    if not days:
        return []
    out: dict[dt.date, dict[str, int]] = {d: dict.fromkeys(BANDS, 0) for d in days}
    for d, b, n in session.execute(
        select(HealthSnapshot.as_of, HealthSnapshot.band, func.count())
        .join(Account, Account.id == HealthSnapshot.account_id)
        .where(HealthSnapshot.as_of.in_(days), Account.is_deleted.is_(False))
        .group_by(HealthSnapshot.as_of, HealthSnapshot.band)
    ):
        out[d][b] = n
    return sorted(out.items())


def renewal_buckets(session: Session, day: dt.date) -> list[RenewalBucket]:
    """Current customers renewing within 30/60/90 days (cumulative), with their latest risk level."""
    latest = latest_snapshots()
    due = Account.renewal_date
    inner = (
        select(
            case(*[(due <= day + dt.timedelta(days=w), w) for w in RENEWAL_WINDOWS]).label("window"),
            func.coalesce(latest.c.risk_level, "unknown").label("risk"),
            func.coalesce(Account.arr, 0.0).label("arr"),
        )
        .select_from(Account)
        .outerjoin(latest, latest.c.account_id == Account.id)
        .where(Account.is_deleted.is_(False), not_(churned_on(day)), due >= day,
               due <= day + dt.timedelta(days=max(RENEWAL_WINDOWS)))
        .subquery("due")
    )  # fmt: skip
    rows = session.execute(
        select(inner.c.window, inner.c.risk, func.count(), func.sum(inner.c.arr)).group_by(
            inner.c.window, inner.c.risk
        )
    )
    levels = (*RISK_LEVELS, "unknown")
    buckets = [RenewalBucket(w, by_risk=dict.fromkeys(levels, 0)) for w in RENEWAL_WINDOWS]
    for window, level, n, arr in rows:
        for bucket in buckets:
            if window <= bucket.days:  # windows are cumulative: 60 days includes the first 30
                bucket.accounts += n
                bucket.arr += float(arr or 0)
                bucket.by_risk[level] = bucket.by_risk.get(level, 0) + n
                if level == "high":
                    bucket.arr_at_risk += float(arr or 0)
    return buckets


def upcoming_renewals(session: Session, day: dt.date, limit: int = 25) -> list[dict[str, Any]]:
    """The riskiest renewals of the next 90 days: high risk first, then by date."""
    latest = latest_snapshots()
    order = case({"high": 0, "medium": 1, "low": 2}, value=latest.c.risk_level, else_=3)
    rows = session.execute(
        select(Account.id, Account.name, Account.arr, Account.renewal_date, Account.owner_name,
               latest.c.band, latest.c.score, latest.c.risk_level, latest.c.renewal_risk)
        .outerjoin(latest, latest.c.account_id == Account.id)
        .where(Account.is_deleted.is_(False), not_(churned_on(day)), Account.renewal_date >= day,
               Account.renewal_date <= day + dt.timedelta(days=90))
        .order_by(order, Account.renewal_date, Account.id)
        .limit(limit)
    )  # fmt: skip
    return [dict(r._mapping) for r in rows]


def open_escalations(session: Session) -> dict[str, int]:
    out = dict.fromkeys(SEVERITIES, 0)
    for sev, n in session.execute(
        select(Escalation.severity, func.count())
        .where(Escalation.state.in_(OPEN_ESCALATION_STATES))
        .group_by(Escalation.severity)
    ):
        out[sev] = n
    return out


def band_movers(session: Session, day: dt.date) -> tuple[list[dict[str, Any]], int]:
    """Current customers whose band differs from a week or more ago, biggest ARR first."""
    latest = latest_snapshots()
    h = HealthSnapshot.__table__.alias("h")
    week_ago = (  # one backward seek on the (account_id, as_of) index per account
        select(h.c.id).where(h.c.account_id == Account.id, h.c.as_of <= day - dt.timedelta(days=7))
        .order_by(h.c.as_of.desc()).limit(1).scalar_subquery()
    )  # fmt: skip
    now = (
        select(Account.id, Account.name, Account.arr, Account.owner_name, week_ago.label("before_id"),
               latest.c.band.label("to_band"), latest.c.score.label("to_score"))
        .join(latest, latest.c.account_id == Account.id)
        .where(Account.is_deleted.is_(False), not_(churned_on(day)))
        .cte("now_and_before")
    )  # fmt: skip
    before = HealthSnapshot.__table__.alias("before")
    rows = session.execute(
        select(now.c.id, now.c.name, now.c.arr, now.c.owner_name, before.c.band.label("from_band"),
               now.c.to_band, before.c.score.label("from_score"), now.c.to_score)
        .join(before, before.c.id == now.c.before_id)
        .where(before.c.band != now.c.to_band)
        .order_by(now.c.arr.desc().nulls_last(), now.c.id)
    ).all()  # fmt: skip
    return [dict(r._mapping) for r in rows[:MOVERS_LIMIT]], len(rows)
