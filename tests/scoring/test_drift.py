"""Drift (PSI): zero for the same distribution, large for a shift, per signal from snapshots."""

from __future__ import annotations

import math
import random
from datetime import date, timedelta

import pytest

from model.tables import HealthSnapshot
from scoring.drift import drift_report, psi
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
