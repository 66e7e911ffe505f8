"""Drift: has the score or a signal's distribution moved? (PSI)

PSI = sum over bins of (a - e) x ln(a / e), with bins at the reference day's deciles and
empty shares floored at 0.1%. Rule of thumb: below 0.1 stable, 0.1-0.25 moderate, above
0.25 a shift worth a look (a new data feed, a broken field, a changed book).

Two views, both of computed scores (overrides are audited apart, `scoring.override_audit`):
- `drift_report`: the newest snapshot day against the one `weeks_back` weeks before;
- `weekly_drift`: week over week, each week's last snapshot day against the week before's,
  so a shift shows in the week it happened.

A day is read as one float array per signal (`day_values`), streamed: at 50,000 accounts a
day's snapshots as dicts would be ~200 MiB, its numbers are ~17 MiB, and at most two days are
held at once.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from model.tables import HealthSnapshot
from scoring.store import SNAPSHOT_STREAM_ROWS

FLOOR = 0.001
SHIFTED = 0.25  # a PSI above this is "a shift worth a look"
# Two samples of one distribution already differ: PSI's expected value from sampling alone is
# about (bins - 1) x (1/n1 + 1/n2) (measured: 0.19 at 100 values a day, 0.09 at 200; at 50,
# 81% of same-distribution pairs passed 0.25). So a signal with fewer than MIN_VALUES values
# on either day is not compared (nine parents' roll-up scores "moved" by 2-5 every week), and
# a shift is flagged only above NOISE_TIMES that chance level too (above 0.25 by chance: ~1%
# at 100 values, none seen at 300).
MIN_VALUES = 100
NOISE_TIMES = 3.0
NUMBER_TYPES = frozenset({int, float})


def psi(reference: Sequence[float], current: Sequence[float], bins: int = 10) -> float | None:
    """Population stability index of `current` against `reference`; None without data."""
    if len(reference) == 0 or len(current) == 0:
        return None
    ref = np.sort(np.asarray(reference, dtype=float))
    n = len(ref)
    edges = np.unique(ref[[min(n - 1, n * k // bins) for k in range(1, bins)]])

    def shares(values: Sequence[float] | np.ndarray) -> np.ndarray:
        where = np.searchsorted(edges, np.asarray(values, dtype=float), side="right")
        counts = np.bincount(where, minlength=len(edges) + 1)
        return np.maximum(FLOOR, counts / len(values))

    e, a = shares(ref), shares(current)
    return float(np.sum((a - e) * np.log(a / e)))


@dataclass(slots=True)
class DayValues:
    """One snapshot day's computed scores and each numeric signal's values, as float arrays."""

    day: date
    scores: array[float] = field(default_factory=lambda: array("d"))
    signals: dict[str, array[float]] = field(default_factory=dict)

    def add(self, score: float, signals: dict[str, Any] | None) -> None:
        self.scores.append(score)
        arrays = self.signals
        for name, v in (signals or {}).items():
            if type(v) in NUMBER_TYPES:  # decoded JSON: exactly float or int (a bool is not)
                values = arrays.get(name)
                if values is None:
                    values = arrays[name] = array("d")
                values.append(v)


def day_values(session: Session, day: date) -> DayValues:
    out = DayValues(day)
    rows = session.execute(
        select(HealthSnapshot.computed_score, HealthSnapshot.signals)
        .where(HealthSnapshot.as_of == day, HealthSnapshot.computed_score.is_not(None))
        .execution_options(yield_per=SNAPSHOT_STREAM_ROWS)
    )
    for score, signals in rows:
        out.add(float(score), signals)
    return out


def compare(reference: DayValues, current: DayValues) -> dict[str, Any]:
    """PSI of the score and of every numeric signal with `MIN_VALUES` values on both days, and
    the signals that shifted: above 0.25 and above what sampling alone gives."""
    signals, shifted = {}, []
    for name in sorted(set(current.signals) & set(reference.signals)):
        ref, cur = reference.signals[name], current.signals[name]
        value = _psi_of(ref, cur)
        if value is not None:
            signals[name] = _round(value)
            if value > max(SHIFTED, NOISE_TIMES * chance_psi(len(ref), len(cur))):
                shifted.append(name)
    return {
        "current": current.day.isoformat(),
        "reference": reference.day.isoformat(),
        "accounts": len(current.scores),
        "score": _round(_psi_of(reference.scores, current.scores)),
        "signals": signals,
        "shifted": shifted,
    }


def chance_psi(n1: int, n2: int, bins: int = 10) -> float:
    """PSI's expected value between two samples of one distribution (see MIN_VALUES)."""
    return (bins - 1) * (1 / n1 + 1 / n2)


def _psi_of(reference: array[float], current: array[float]) -> float | None:
    """PSI when both days hold `MIN_VALUES` values, else None (not compared)."""
    if min(len(reference), len(current)) < MIN_VALUES:
        return None
    return psi(reference, current)


def drift_report(session: Session, weeks_back: int = 4) -> dict[str, Any]:
    """PSI of the score and each numeric signal: latest snapshot day against `weeks_back` before."""
    latest = session.scalar(select(func.max(HealthSnapshot.as_of)))
    if latest is None:
        return {"available": False}
    then = latest - timedelta(weeks=weeks_back)
    reference = day_values(session, then)
    if not reference.scores:
        return {"available": False, "reason": f"no snapshots on {then} to compare with"}
    return {"available": True, **compare(reference, day_values(session, latest))}


def weekly_days(session: Session, weeks: int) -> list[date]:
    """The last snapshot day of each of the newest `weeks` calendar weeks (Monday to Sunday)
    that hold snapshots, oldest first; weeks without a snapshot are skipped."""
    latest = session.scalar(select(func.max(HealthSnapshot.as_of)))
    if latest is None:
        return []
    since = latest - timedelta(weeks=weeks + 1)
    days = session.scalars(
        select(HealthSnapshot.as_of).where(HealthSnapshot.as_of > since).distinct()
    )
    return sorted(_last_of_each_week(days))[-weeks:]


def _last_of_each_week(days: Iterable[date]) -> list[date]:
    last: dict[date, date] = {}
    for day in days:
        monday = day - timedelta(days=day.weekday())
        if day > last.get(monday, date.min):
            last[monday] = day
    return list(last.values())


def weekly_drift(session: Session, weeks: int = 8) -> dict[str, Any]:
    """Week-over-week PSI of the score and every signal over the newest `weeks` weeks: one row
    per week (its last snapshot day against the previous week's), two days held at a time."""
    days = weekly_days(session, weeks + 1)
    if len(days) < 2:
        return {"available": False, "reason": "fewer than two weeks of snapshots"}
    rows: list[dict[str, Any]] = []
    signals: dict[str, float] = {}
    previous = day_values(session, days[0])
    for day in days[1:]:
        current = day_values(session, day)
        row = compare(previous, current)
        signals = row.pop("signals")  # kept per signal for the newest week only (returned)
        top = max(signals.items(), key=lambda kv: kv[1], default=None)
        row["largest_signal"] = None if top is None else {"name": top[0], "psi": top[1]}
        rows.append(row)
        previous = current
    return {"available": True, "weeks": rows, "latest_signals": signals}


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 4)
