"""Shared building blocks of the dashboard queries: the as-of day and each account's latest snapshot."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Subquery, func, select
from sqlalchemy.orm import Session

from model.tables import HealthSnapshot

BANDS = ("green", "yellow", "red", "insufficient_data")
SEVERITIES = ("critical", "high", "medium", "low")
RISK_LEVELS = ("high", "medium", "low")
OPEN_ESCALATION_STATES = ("open", "acknowledged")
SOLVED_TICKET_STATES = ("solved", "closed")
TREND_WEEKS = 13


def as_of_day(session: Session) -> dt.date:
    """The day the dashboard describes: the newest snapshot day, or today before any scoring."""
    latest = session.scalar(select(func.max(HealthSnapshot.as_of)))
    return latest or dt.datetime.now(dt.UTC).date()


def latest_snapshots() -> Subquery:
    """One row per account: its newest snapshot (set-based: a grouped max joined back)."""
    newest = (
        select(HealthSnapshot.account_id, func.max(HealthSnapshot.as_of).label("as_of"))
        .group_by(HealthSnapshot.account_id)
        .subquery("newest")
    )
    return (
        select(HealthSnapshot)
        .join(
            newest,
            (newest.c.account_id == HealthSnapshot.account_id)
            & (newest.c.as_of == HealthSnapshot.as_of),
        )
        .subquery("latest")
    )


def snapshots_on_or_before(day: dt.date) -> Subquery:
    """One row per account: its newest snapshot on or before `day`."""
    newest = (
        select(HealthSnapshot.account_id, func.max(HealthSnapshot.as_of).label("as_of"))
        .where(HealthSnapshot.as_of <= day)
        .group_by(HealthSnapshot.account_id)
        .subquery("before")
    )
    return (
        select(HealthSnapshot.account_id, HealthSnapshot.band, HealthSnapshot.score)
        .join(
            newest,
            (newest.c.account_id == HealthSnapshot.account_id)
            & (newest.c.as_of == HealthSnapshot.as_of),
        )
        .subquery("previous")
    )


def signal_value(signals: dict[str, Any] | None, name: str) -> float | None:
    """A measure's value from a snapshot's signals, stored flat (`{name: 0.4}`) or as `{name: {value}}`."""
    raw = (signals or {}).get(name)
    if isinstance(raw, dict):
        raw = raw.get("value")
    if isinstance(raw, bool):
        return float(raw)
    return float(raw) if isinstance(raw, int | float) else None


def to_date(value: Any) -> dt.date:
    """SQLite returns `date(...)` as text, PostgreSQL as a date."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def week_start(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def ratio(num: float | None, den: float | None) -> float | None:
    return None if not den or num is None else num / den


def signal_column(session: Session, name: str, table: Any = None) -> Any:
    """A SQL expression for one measure inside `signals` JSON, flat or `{name: {value}}` shaped."""
    col = HealthSnapshot.signals if table is None else table.c.signals
    sample = session.scalar(
        select(HealthSnapshot.signals).order_by(HealthSnapshot.id.desc()).limit(1)
    )
    nested = isinstance((sample or {}).get(name), dict)
    return (col[(name, "value")] if nested else col[name]).as_float()


def trend_days(session: Session, day: dt.date, weeks: int = TREND_WEEKS) -> list[dt.date]:
    """Snapshot days one week apart going back from `day` (the nearest scored day to each)."""
    start = day - dt.timedelta(weeks=weeks)
    scored = sorted(
        session.scalars(
            select(HealthSnapshot.as_of).where(HealthSnapshot.as_of >= start).distinct()
        )
    )
    picked: list[dt.date] = []
    for w in range(weeks, -1, -1):
        target = day - dt.timedelta(weeks=w)
        on_or_before = [d for d in scored if d <= target and target - d < dt.timedelta(days=7)]
        if on_or_before and on_or_before[-1] not in picked:
            picked.append(on_or_before[-1])
    return picked
