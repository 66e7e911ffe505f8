"""Drift (PSI): zero for the same distribution, large for a shift, per signal from snapshots."""

from __future__ import annotations

import math
import random
from array import array
from datetime import date, timedelta

import pytest

from model.tables import HealthSnapshot
from scoring.drift import (
    DayValues,
    chance_psi,
    compare,
    drift_report,
    psi,
    weekly_days,
    weekly_drift,
)
from tests.scoring import factories as f


def test_psi_values() -> None:
    rng = random.Random(1)
    ref = [rng.gauss(0, 1) for _ in range(2000)]
    assert psi(ref, ref) == pytest.approx(0.0)
    assert psi(ref, [rng.gauss(0, 1) for _ in range(2000)]) < 0.05
    assert psi(ref, [rng.gauss(1, 1) for _ in range(2000)]) > 0.25
    # two bins by hand: reference 50/50 around the median, current 80/20
    two = psi([0, 0, 1, 1], [0] * 8 + [1] * 2, bins=2)
    assert two == pytest.approx(
        (0.8 - 0.5) * math.log(0.8 / 0.5) + (0.2 - 0.5) * math.log(0.2 / 0.5)
    )
    assert psi([], [1.0]) is None


def test_drift_report_flags_the_signal_that_moved() -> None:
    s = f.make_session()
    last = date(2026, 6, 1)
    rng = random.Random(2)
    for _ in range(200):
        a = f.account(s)
        for day, shift in ((last - timedelta(weeks=4), 0.0), (last, 0.5)):
            s.add(HealthSnapshot(account_id=a.id, as_of=day, score=70.0, band="yellow",
                                 computed_score=70 + rng.gauss(0, 5),
                                 signals={"csat": rng.random(), "usage_change_90d": rng.gauss(-shift, 0.2)}))  # fmt: skip
    s.flush()
    report = drift_report(s)
    assert report["available"] and report["score"] < 0.1
    assert report["shifted"] == ["usage_change_90d"] and report["signals"]["csat"] < 0.25
    assert drift_report(s, weeks_back=2) == {
        "available": False,
        "reason": f"no snapshots on {last - timedelta(weeks=2)} to compare with",
    }


def _days(s, accounts, days, signal) -> None:
    """One snapshot per account per day; `signal(day, i)` gives each one's usage change."""
    for day in days:
        for i, a in enumerate(accounts):
            s.add(HealthSnapshot(account_id=a.id, as_of=day, score=60.0, band="yellow",
                                 computed_score=60 + (i % 17), signals={"usage_change_90d": signal(day, i)}))  # fmt: skip


def test_weekly_drift_shows_the_week_a_signal_moved() -> None:
    s = f.make_session()
    rng = random.Random(3)
    accounts = [f.account(s) for _ in range(120)]
    sundays = [date(2026, 5, 3) + timedelta(weeks=k) for k in range(5)]
    moved = sundays[3]
    _days(s, accounts, sundays, lambda d, i: rng.gauss(-0.6 if d >= moved else 0.0, 0.2))
    # a parent's roll-up on 9 accounts: ten deciles of nine values are noise, never compared
    for d in sundays:
        for a in accounts[:9]:
            snap = s.query(HealthSnapshot).filter_by(account_id=a.id, as_of=d).one()
            snap.signals = {**snap.signals, "own_score": rng.uniform(0, 100)}
    s.flush()
    report = weekly_drift(s, weeks=8)
    weeks = report["weeks"]
    assert [w["current"] for w in weeks] == [d.isoformat() for d in sundays[1:]]
    assert [w["reference"] for w in weeks] == [d.isoformat() for d in sundays[:-1]]
    shifted = [w["current"] for w in weeks if w["shifted"]]
    assert shifted == [moved.isoformat()], "only the week it moved, not the weeks after"
    assert weeks[2]["largest_signal"]["name"] == "usage_change_90d"
    assert weeks[2]["largest_signal"]["psi"] > 0.25 > weeks[3]["largest_signal"]["psi"]
    assert all(w["score"] == pytest.approx(0.0) for w in weeks)
    assert set(report["latest_signals"]) == {"usage_change_90d"}
    assert weekly_drift(s, weeks=2)["weeks"][0]["current"] == sundays[3].isoformat()


def test_weekly_days_take_each_weeks_last_snapshot_day() -> None:
    s = f.make_session()
    a = f.account(s)
    monday = date(2026, 6, 1)
    for k in range(16):  # daily snapshots Monday 1 June .. Tuesday 16 June
        day = monday + timedelta(days=k)
        s.add(HealthSnapshot(account_id=a.id, as_of=day, score=1.0, band="red", computed_score=1.0))
    s.flush()
    assert weekly_days(s, 8) == [date(2026, 6, 7), date(2026, 6, 14), date(2026, 6, 16)]
    assert weekly_days(s, 1) == [date(2026, 6, 16)]
    assert weekly_drift(f.make_session())["available"] is False


def test_psi_matches_a_plain_python_count() -> None:
    """The numpy PSI bins as `bisect_right` over the reference's deciles does."""
    import bisect

    rng = random.Random(5)
    ref = [round(rng.gauss(0, 1), 1) for _ in range(500)]  # ties on the bin edges
    cur = [round(rng.gauss(0.3, 1.2), 1) for _ in range(300)]
    srt = sorted(ref)
    edges = sorted({srt[min(len(srt) - 1, int(len(srt) * k / 10))] for k in range(1, 10)})

    def shares(values: list[float]) -> list[float]:
        counts = [0] * (len(edges) + 1)
        for v in values:
            counts[bisect.bisect_right(edges, v)] += 1
        return [max(0.001, c / len(values)) for c in counts]

    e, a = shares(ref), shares(cur)
    expected = sum((x - y) * math.log(x / y) for x, y in zip(a, e, strict=True))
    assert psi(ref, cur) == pytest.approx(expected, rel=1e-12)


def test_a_shift_is_flagged_above_what_sampling_alone_gives() -> None:
    """At ~110 accounts two weeks of one distribution pass PSI 0.25 often by chance; only a
    PSI above three times the chance level is flagged, and a real shift still is."""
    rng = random.Random(6)

    def day(d: date, mean: float) -> DayValues:
        values = DayValues(d)
        for _ in range(110):
            values.add(50.0, {"x": rng.gauss(mean, 1.0)})
        return values

    pairs = [compare(day(date(2026, 1, 4), 0), day(date(2026, 1, 11), 0)) for _ in range(200)]
    over = sum(p["signals"]["x"] > 0.25 for p in pairs)
    flagged = sum(bool(p["shifted"]) for p in pairs)
    assert over >= 20 and flagged <= 4, (over, flagged)
    assert chance_psi(110, 110) == pytest.approx(9 * 2 / 110)
    moved = compare(day(date(2026, 1, 4), 0), day(date(2026, 1, 11), 1.5))
    assert moved["shifted"] == ["x"]
    few = DayValues(date(2026, 1, 11), scores=array("d", [1.0] * 99))
    assert compare(few, few)["score"] is None  # under MIN_VALUES: not compared
