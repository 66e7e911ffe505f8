"""The held-out bench's high-risk threshold: cross-fitted by account (no fold judged under a
threshold its own renewals chose), the fixed value where too few, both rows reported."""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

import pytest

from bench import honest_score
from scoring.alert_fit import fit_high_at, judged_risks
from scoring.config import load_scorecard

DECIDED = date(2026, 6, 1)
CARD = load_scorecard()


def _world(accounts: int, seed: int = 4) -> tuple[list[Any], list[float], dict[int, Any]]:
    """One snapshot 63 days before each account's renewal; fold 0's won renewals look risky."""
    rng = random.Random(seed)
    keys, probs, outcomes = [], [], {}
    for aid in range(accounts):
        lost = rng.random() < 0.25
        p = rng.betavariate(4, 5) if lost else rng.betavariate(2, 7)
        if aid % honest_score.FOLDS == 0 and not lost:
            p = min(0.99, p + 0.3)
        keys.append((aid, DECIDED - timedelta(days=63)))
        probs.append(p)
        outcomes[aid] = [(DECIDED, lost, None)]
    return keys, probs, outcomes


def _highs(
    monkeypatch: pytest.MonkeyPatch, accounts: int, flags: dict[int, tuple[float, float]]
) -> tuple[dict[int, float], list[Any], list[float], dict[int, Any]]:
    """The bench's cross-fitted high thresholds on `_world(accounts)`, and that world."""
    keys, probs, outcomes = _world(accounts)
    monkeypatch.setattr(honest_score, "renewal_outcomes", lambda session: outcomes)
    return honest_score._cross_fitted_high_at(None, CARD, keys, probs, flags), keys, probs, outcomes


def test_each_fold_is_flagged_under_a_threshold_fitted_on_the_others(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    highs, keys, probs, outcomes = _highs(monkeypatch, 1000, {})
    card = CARD
    assert card.bands.fit is not None
    judged = judged_risks(keys, probs, outcomes, card.bands.fit.lead_days)
    for k in range(honest_score.FOLDS):
        fitted = fit_high_at([j for j in judged if j[0] % honest_score.FOLDS != k], card.bands.fit)
        assert fitted is not None and highs[k] == fitted["high_at"]
    assert highs[0] < min(highs[k] for k in range(1, honest_score.FOLDS)), (
        "fold 0's risky-looking renewals raise every threshold but its own"
    )


def test_too_few_renewals_keep_the_scorecards_threshold(monkeypatch: pytest.MonkeyPatch) -> None:
    highs, *_ = _highs(monkeypatch, 40, {})
    assert highs == dict.fromkeys(range(honest_score.FOLDS), CARD.risk.high_at)


def test_a_jointly_fitted_fold_takes_its_high_threshold_from_the_joint_fit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    alone, *_ = _highs(monkeypatch, 1000, {})
    joint, *_ = _highs(monkeypatch, 1000, {2: (70.0, 0.777)})
    assert joint[2] == 0.777, "the joint red-or-high fit decides fold 2's threshold"
    assert all(joint[k] == alone[k] for k in range(honest_score.FOLDS) if k != 2)


def test_the_report_keeps_the_fixed_row_beside_the_fitted_one(
    capsys: pytest.CaptureFixture[str],
) -> None:
    lead = {f"{d}d": {"detected": 0.5, "false_alarms": 0.1} for d in (30, 60, 90)}
    fitted = {f"{d}d": {"detected": 0.55, "false_alarms": 0.095} for d in (30, 60, 90)}
    result = {
        "seed": 101, "judged": 900, "churned": 60, "score_auc": 0.8, "signals": {"x": 0.6},
        "bands": {"red": 0.5, "yellow": 0.2, "green": 0.1}, "bands_ordered": True,
        "cutoffs": [(73.0, 80.0)], "lead_fixed": lead, "lead_score": lead, "lead_risk": lead,
        "fitted": {"auc": 0.84, "brier": 0.1, "base_brier": 0.15, "slope": 1.0},
        "high_cutoffs": [0.38, 0.39], "lead_risk_fitted": fitted,
    }  # fmt: skip
    honest_score.report([result])
    out = capsys.readouterr().out
    assert "churners high risk ≥60d" in out and "churners high fit  ≥60d   0.550" in out
    assert "fitted high_at         0.385" in out
    assert "55% (10%)" in out, "each seed's line shows the fitted threshold's 60-day figure"
