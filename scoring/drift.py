"""Drift: has the score or a signal's distribution moved since a reference week? (PSI)

PSI = sum over bins of (a - e) x ln(a / e), with bins at the reference week's deciles and
empty shares floored at 0.1%. Rule of thumb: below 0.1 stable, 0.1-0.25 moderate, above
0.25 a shift worth a look (a new data feed, a broken field, a changed book).
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from model.tables import HealthSnapshot

FLOOR = 0.001


def psi(reference: Sequence[float], current: Sequence[float], bins: int = 10) -> float | None:
    """Population stability index of `current` against `reference`; None without data."""
    if not reference or not current:
        return None
    ref = sorted(reference)
    edges = sorted({ref[min(len(ref) - 1, int(len(ref) * k / bins))] for k in range(1, bins)})

    def shares(values: Sequence[float]) -> list[float]:
        counts = [0] * (len(edges) + 1)
        for v in values:
            counts[bisect.bisect_right(edges, v)] += 1
        return [max(FLOOR, c / len(values)) for c in counts]

    e, a = shares(reference), shares(current)
    return sum((ai - ei) * math.log(ai / ei) for ai, ei in zip(a, e, strict=True))


def drift_report(session: Session, weeks_back: int = 4) -> dict[str, Any]:
    """PSI of the score and each numeric signal: latest snapshot day against `weeks_back` before."""
    latest = session.scalar(select(func.max(HealthSnapshot.as_of)))
    if latest is None:
        return {"available": False}
    then = latest - timedelta(weeks=weeks_back)
    now_rows, then_rows = _day(session, latest), _day(session, then)
    if not then_rows:
        return {"available": False, "reason": f"no snapshots on {then} to compare with"}
    names = sorted({k for _, sig in now_rows for k, v in sig.items() if _numeric(v)})
    out: dict[str, Any] = {
        "available": True,
        "current": latest.isoformat(),
        "reference": then.isoformat(),
    }
    out["score"] = _round(psi([s for s, _ in then_rows], [s for s, _ in now_rows]))
    signals = {}
    for name in names:
        value = psi(
            [float(sig[name]) for _, sig in then_rows if _numeric(sig.get(name))],
            [float(sig[name]) for _, sig in now_rows if _numeric(sig.get(name))],
        )
        if value is not None:
            signals[name] = _round(value)
    out["signals"] = signals
    out["shifted"] = sorted(k for k, v in signals.items() if v is not None and v > 0.25)
    return out


def _day(session: Session, day: date) -> list[tuple[float, dict[str, Any]]]:
    rows = session.execute(
        select(HealthSnapshot.computed_score, HealthSnapshot.signals).where(
            HealthSnapshot.as_of == day, HealthSnapshot.computed_score.is_not(None)
        )
    )
    return [(float(score), signals or {}) for score, signals in rows]


def _numeric(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 4)
