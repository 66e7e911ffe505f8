"""Shared building blocks of the read models: the as-of day and each account's latest snapshot."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import Subquery, func, select
from sqlalchemy.orm import Session

from model.sql_days import as_date
from model.tables import Account, HealthSnapshot, SyncRun

BANDS = ("green", "yellow", "red", "insufficient_data")
SEVERITIES = ("sev1", "sev2", "sev3", "sev4")  # escalation.severity: sev1 is the most severe
RISK_LEVELS = ("high", "medium", "low")
OPEN_ESCALATION_STATES = ("open", "acknowledged")
SOLVED_TICKET_STATES = ("solved", "closed")
TREND_WEEKS = 13


T = TypeVar("T")
PER_RUN_CACHE_SIZE = 64
_PER_RUN: dict[tuple[Any, ...], Any] = {}


def data_version(session: Session) -> tuple[Any, ...]:
    """Which sync run last touched the data: the database and its newest run's id and state.

    Tickets and usage change only inside runs (scheduled, reconcile, webhook refresh), so
    an aggregate computed at one version stays right until a run starts or finishes."""
    row = session.execute(
        select(SyncRun.id, SyncRun.status, SyncRun.finished_at).order_by(SyncRun.id.desc()).limit(1)
    ).first()
    return (str(session.get_bind().engine.url), *(tuple(row) if row else ()))


def per_run(session: Session, key: tuple[Any, ...], compute: Callable[[], T]) -> T:
    """`compute()` once per data version: book-wide ticket/usage aggregates (millions of rows
    at 50,000 accounts) are read once per run instead of on every page view."""
    full = (*key, *data_version(session))
    if full not in _PER_RUN:
        if len(_PER_RUN) >= PER_RUN_CACHE_SIZE:
            _PER_RUN.clear()
        _PER_RUN[full] = compute()
    return _PER_RUN[full]  # type: ignore[no-any-return]


def clear_per_run_cache() -> None:
    _PER_RUN.clear()


def as_of_day(session: Session) -> dt.date:
    """The day the dashboard describes: the newest snapshot day, or today before any scoring."""
    latest = session.scalar(select(func.max(HealthSnapshot.as_of)))
    return latest or dt.datetime.now(dt.UTC).date()


def _newest_day(day: dt.date | None = None) -> Any:
    """Per account, the day of its newest snapshot (on or before `day`): one index seek each."""
    inner = HealthSnapshot.__table__.alias("h")
    newest = select(func.max(inner.c.as_of)).where(inner.c.account_id == Account.id)
    if day is not None:
        newest = newest.where(inner.c.as_of <= day)
    return newest.scalar_subquery()


def _newest_cte(name: str, day: dt.date | None) -> Any:
    """(account id, newest snapshot day), materialized so the planner seeks per account first."""
    cte = select(Account.id.label("aid"), _newest_day(day).label("day")).cte(name)
    return cte.prefix_with("MATERIALIZED")


def latest_snapshots() -> Subquery:
    """One row per account: its newest snapshot.

    Driven from accounts with a correlated max per account, which both SQLite and PostgreSQL
    answer from the (account_id, as_of) unique index, instead of grouping all history.
    """
    newest = _newest_cte("newest", None)
    return (
        select(HealthSnapshot)
        .join(
            newest,
            (HealthSnapshot.account_id == newest.c.aid) & (HealthSnapshot.as_of == newest.c.day),
        )
        .subquery("latest")
    )


def signal_value(signals: dict[str, Any] | None, name: str) -> float | None:
    """A measure's value from a snapshot's signals, stored flat (`{name: 0.4}`) or as `{name: {value}}`."""
    raw = (signals or {}).get(name)
    if isinstance(raw, dict):
        raw = raw.get("value")
    if isinstance(raw, bool):
        return float(raw)
    return float(raw) if isinstance(raw, int | float) else None


to_date = as_date  # SQLite returns `date(...)` as text, PostgreSQL as a date


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
    """Snapshot days one week apart going back from `day`: the newest scored day in each week."""
    picked: list[dt.date] = []
    for w in range(weeks, -1, -1):
        target = day - dt.timedelta(weeks=w)
        found = session.scalar(
            select(func.max(HealthSnapshot.as_of)).where(
                HealthSnapshot.as_of <= target, HealthSnapshot.as_of > target - dt.timedelta(days=7)
            )
        )
        if found is not None and found not in picked:
            picked.append(found)
    return picked
