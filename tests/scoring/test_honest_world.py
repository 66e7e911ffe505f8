"""The sandbox world through the real pipeline: no planted field separates churners, together they do.

Tuning seed 1 only (held-out seeds 101-110 are for `python -m bench honest_score`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from bench.judged_ceiling import judged_ceiling
from bench.world_history import build_history, world_anchor
from scoring import metrics
from scoring.audit import signal_aucs
from scoring.backtest import Sample, samples_from_database
from scoring.fit import fit_risk
from scoring.risk_store import FEATURES, training_from_database


@pytest.fixture(scope="module")
def world_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return Path(tmp_path_factory.mktemp("honest"))


@pytest.fixture(scope="module")
def history(world_dir: Path) -> Iterator[sessionmaker[Session]]:
    yield build_history(300, 1, world_dir)


@pytest.fixture(scope="module")
def judged(history: sessionmaker[Session]) -> list[Sample]:
    with history() as s:
        samples, _ = samples_from_database(s, 180, 30)
    return [x for x in samples if x.score is not None]


def test_no_single_signal_separates_churners(judged: list[Sample]) -> None:
    churned = sum(x.churned for x in judged)
    assert churned >= 8 and len(judged) - churned >= 30
    aucs = signal_aucs(judged)
    assert len(aucs) >= 15, "the signals are there to be judged"
    # 300 accounts judge ~80 renewals, ~13 of them lost: one signal's AUC moves by ±0.05 with
    # the draw (the world moves with the day it is built on: `usage_change_90d` read 0.885 in
    # one, 0.80-0.84 at most over each set of ten 1,000-account worlds). So a signal over 0.85 fails only if its 95% interval lies wholly above 0.85, as a
    # planted field's would (`champions == 0` separated the old world's churners at 0.993);
    # `bench honest_score` holds every signal under 0.85 on the 1,000-account worlds.
    for name, auc in aucs.items():
        if auc >= 0.85:
            low, _ = _interval(judged, name)
            assert low < 0.85, (name, auc, low)


def _interval(judged: list[Sample], name: str) -> tuple[float, float]:
    """The signal's oriented ROC-AUC, 95% bootstrap interval over accounts."""
    pairs = [(float(x.signals[name]), int(x.churned)) for x in judged if name in x.signals]
    values, labels = [v for v, _ in pairs], [y for _, y in pairs]
    if (metrics.roc_auc(values, labels) or 0.5) < 0.5:
        values = [-v for v in values]
    interval = metrics.bootstrap_auc(values, labels)
    assert interval is not None
    return interval


def test_together_the_signals_rank_churners(judged: list[Sample], history) -> None:
    labels = [int(x.churned) for x in judged]
    score_auc = metrics.roc_auc([100.0 - (x.score or 0.0) for x in judged], labels)
    assert score_auc is not None and score_auc > 0.65
    with history() as s:
        ts = training_from_database(s, 180)
    fitted = fit_risk(ts, FEATURES)
    assert (
        fitted.metrics["outcomes"] >= 40
        and fitted.metrics["cv_brier"] < fitted.metrics["base_rate_brier"]
    )


def test_the_first_sync_fits_renewal_risk_and_scores_today_with_it(history) -> None:
    from sqlalchemy import func, select

    from model.tables import HealthSnapshot, RiskModelVersion

    with history() as s:
        versions = s.scalars(select(RiskModelVersion.trained_on)).all()
        today = s.scalar(select(func.max(HealthSnapshot.as_of)))
        drivers = s.scalars(
            select(HealthSnapshot.risk_drivers).where(
                HealthSnapshot.as_of == today, HealthSnapshot.renewal_risk.is_not(None)
            )
        ).all()
    assert versions == ["database (refit)"]
    assert drivers and all(d.get("driver") != "uncalibrated" for ds in drivers for d in ds)


def test_the_first_sync_fits_band_cut_offs_for_lead_time_and_scores_today_with_them(
    history,
) -> None:
    from sqlalchemy import func, select

    from model.tables import HealthSnapshot, RiskModelVersion
    from scoring.band_fit import fit_bands_from_database
    from scoring.config import BandFit

    with history() as s:
        params = s.scalars(select(RiskModelVersion.params)).one()
        today = s.scalar(select(func.max(HealthSnapshot.as_of)))
        rows = s.execute(
            select(HealthSnapshot.computed_score, HealthSnapshot.computed_band).where(
                HealthSnapshot.as_of == today, HealthSnapshot.computed_score.is_not(None)
            )
        ).all()
        alert = params["alert"]
        refitted = fit_bands_from_database(s, BandFit(), alert.get("red_below"))
    bands = params["bands"]
    if alert.get("flag") == "red or high":  # red and high fitted together for the union flag
        assert bands["red_below"] == alert["red_below"] and alert["false_alarms"] <= 0.10
    assert bands == refitted, "stored as fitted on the replayed history"
    curve = {c["lead_days"]: c for c in bands["curve"]}
    assert set(curve) >= {0, 30, 60, 90, 120}
    assert curve[60]["detected"] > curve[60]["false_alarms"]
    assert 50 < bands["red_below"] <= bands["green_at"] < 100
    assert bands["red_false_alarms"] <= 0.09 and bands["red_detected"] > 0.15
    for score, band in rows:  # today's bands follow the fitted cut-offs, not 50/75
        want = "red" if score < bands["red_below"] else "green"
        if bands["red_below"] <= score < bands["green_at"]:
            want = "yellow"
        assert band == want, (score, band, bands)
    assert any(b == "red" and sc >= 50 for sc, b in rows), "red fires above the old cut-off"


def test_the_fitted_model_carries_its_lead_time_high_threshold_and_scores_today_with_it(
    history,
) -> None:
    from sqlalchemy import func, select

    from model.tables import HealthSnapshot, RiskModelVersion
    from scoring.config import BandFit, load_scorecard
    from scoring.risk_store import active_model, fit_from_database

    with history() as s:
        params = s.scalars(select(RiskModelVersion.params)).one()
        model = active_model(s)
        today = s.scalar(select(func.max(HealthSnapshot.as_of)))
        rows = s.execute(
            select(HealthSnapshot.renewal_risk, HealthSnapshot.risk_level).where(
                HealthSnapshot.as_of == today, HealthSnapshot.renewal_risk.is_not(None)
            )
        ).all()
        refitted = fit_from_database(s, 180, BandFit()).model.alert
    alert = params["alert"]
    assert alert is not None, "seed 1 at 300 accounts has enough renewals 60 days ahead"
    assert model is not None and model.alert == alert == refitted, "stored as fitted"
    assert alert["lead_days"] == 60 and alert["judged_lost"] >= 10
    assert alert["false_alarms"] <= 0.10 and alert["detected"] > alert["false_alarms"]
    high = alert["high_at"]
    assert high != load_scorecard().risk.high_at, "fitted, not the scorecard's fixed value"
    assert rows and any(level == "high" for _, level in rows)
    for risk, level in rows:  # today's levels follow the fitted threshold
        assert (level == "high") == (risk >= high), (risk, level, high)


def test_a_fit_stores_red_and_high_fitted_together_for_the_union_flag(history) -> None:
    from scoring.config import BandFit
    from scoring.risk_store import fit_from_database

    with history() as s:  # 300 accounts judge ~36 won renewals 60 days ahead: lower the floor
        joint = fit_from_database(s, 180, BandFit(min_won=20)).model
        alone = fit_from_database(s, 180, BandFit(min_won=20, flag_false_alarms=None)).model
    assert joint.alert is not None and joint.bands is not None
    assert joint.alert["flag"] == "red or high"
    assert joint.bands["red_below"] == joint.alert["red_below"], "one red cut-off, stored twice"
    won = joint.alert["judged_won"]
    flagged = round(joint.alert["false_alarms"] * won)
    assert (flagged + 1) / (won + 1) <= 0.10, "the union keeps the out-of-sample budget"
    assert alone.alert is not None and "flag" not in alone.alert
    # whether sharing the budget with "high" moves red's cut-off depends on the world (on 5
    # December it did not): the joint fit stores its own, checked above, not a different one
    assert alone.bands is not None


def test_the_judged_renewals_are_ranked_by_the_worlds_own_drivers(
    judged: list[Sample], history, world_dir: Path
) -> None:
    """`bench honest_score`'s ceiling: the world regenerated from its seed and recorded moment
    reproduces every judged label, and its drivers rank them; another seed's world does not,
    and says so."""
    with history() as s:
        anchor = world_anchor(world_dir, 1, s)
        assert anchor is not None
        got = judged_ceiling(s, 300, 1, judged, anchor)
        other = judged_ceiling(s, 300, 2, judged, anchor)
    assert "error" not in got, got
    assert got["unmatched"] == 0
    assert 0.7 < got["visible"] < got["all"] <= 1.0, got
    assert "judged renewals not in the regenerated world" in other["error"]


def test_a_world_built_before_its_moment_was_recorded_is_anchored_at_its_first_sync(
    history, world_dir: Path, tmp_path: Path
) -> None:
    with history() as s:
        recorded = world_anchor(world_dir, 1, s)
        fallback = world_anchor(tmp_path, 1, s)  # no anchor file there
    assert recorded is not None and fallback is not None
    assert dt.timedelta(0) <= fallback - recorded < dt.timedelta(minutes=2), (recorded, fallback)
