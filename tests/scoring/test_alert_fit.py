"""The high-risk threshold fitted for lead time: the false-alarm budget holds with the most lost
renewals caught, a larger budget never catches fewer, too few renewals fit nothing, the
judged snapshot is the lead-time one, and the fitted value reaches `risk_level`."""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest

from scoring.alert_fit import (
    fit_high_at,
    fit_high_at_on_training,
    judged_risks,
    threshold,
    with_fitted_high_at,
)
from scoring.config import BandFit, load_scorecard
from scoring.renewal import risk_level

Judged = tuple[int, int, float, bool]


def _judged(won: int, lost: int, seed: int = 5) -> list[Judged]:
    rng = random.Random(seed)
    clip = lambda p: round(min(max(p, 0.001), 0.999), 4)  # noqa: E731
    rows = [(i, 60, clip(rng.betavariate(2, 7)), False) for i in range(won)]
    rows += [(won + i, 60, clip(rng.betavariate(4, 5)), True) for i in range(lost)]
    return rows


def _alarms(won: list[float], high: float) -> float:
    return sum(p >= high for p in won) / len(won)


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("budget", [0.05, 0.10, 0.20])
def test_the_budget_holds_and_no_lower_threshold_would_keep_it(seed: int, budget: float) -> None:
    judged = _judged(400, 90, seed)
    fitted = fit_high_at(judged, BandFit(high_false_alarms=budget))
    assert fitted is not None
    won = [p for _, _, p, lost in judged if not lost]
    lost = [p for _, _, p, is_lost in judged if is_lost]
    high, n = fitted["high_at"], len(won)
    # the budget holds on new won renewals on average: (k + 1) / (n + 1) with k flagged here
    assert (_alarms(won, high) * n + 1) / (n + 1) <= budget
    assert fitted["false_alarms"] == round(_alarms(won, high), 4)
    assert fitted["detected"] == round(sum(p >= high for p in lost) / len(lost), 4)
    lower = round(high - 1e-4, 4)  # one step down the grid breaks the budget: recall is maximal
    assert (_alarms(won, lower) * n + 1) / (n + 1) > budget
    assert fitted["detected"] > fitted["false_alarms"], "lost renewals score higher"
    assert (fitted["judged_won"], fitted["judged_lost"], fitted["lead_days"]) == (400, 90, 60)


def test_a_larger_budget_never_raises_the_threshold_nor_catches_fewer() -> None:
    judged = _judged(500, 120)
    fits = [fit_high_at(judged, BandFit(high_false_alarms=b)) for b in (0.02, 0.05, 0.1, 0.2, 0.4)]
    highs = [f["high_at"] for f in fits if f is not None]
    caught = [f["detected"] for f in fits if f is not None]
    assert len(highs) == 5
    assert highs == sorted(highs, reverse=True) and len(set(highs)) == 5
    assert caught == sorted(caught)


def test_ties_at_the_threshold_are_never_flagged_past_the_budget() -> None:
    won = [0.3] * 50 + [0.1] * 50
    high = threshold(won, 0.10)
    assert high == 0.3001 and _alarms(won, high) == 0.0, "all ties or none: none keeps 10%"
    # 10 won: even flagging none is expected to flag 1/11 > 0 new ones, so none is flagged
    assert threshold([0.1 * i for i in range(10)], 0.10) == pytest.approx(0.9001)
    # 19 won: flagging none is expected to flag 1/20 = 5% of new ones; one would be 10%
    assert threshold([0.05 * i for i in range(19)], 0.10) == pytest.approx(0.8501)


def test_out_of_sample_the_budget_holds_on_average() -> None:
    """Many draws from one population: the threshold fitted on 120 won renewals flags at most
    the budget of fresh ones on average (filling the budget in sample overshot it)."""
    rng = random.Random(11)
    shares = []
    for _ in range(400):
        fitted_on = [rng.random() for _ in range(120)]
        high = threshold(fitted_on, 0.10)
        shares.append(1.0 - min(high, 1.0))  # a fresh uniform won renewal's chance of p >= high
    assert sum(shares) / len(shares) <= 0.10 + 0.002


def test_too_few_renewals_fit_nothing_and_the_fixed_value_stays() -> None:
    config = BandFit()
    assert fit_high_at(_judged(39, 50), config) is None
    assert fit_high_at(_judged(300, 9), config) is None
    assert fit_high_at(_judged(300, 9), BandFit(min_lost=5)) is not None
    card = load_scorecard()
    assert with_fitted_high_at(card, None) is card
    assert risk_level(card.risk.high_at, card) == "high"


def test_the_fitted_threshold_reaches_risk_level_only_when_the_scorecard_asks() -> None:
    card = load_scorecard()
    fixed = card.risk.high_at
    fitted = {"high_at": round(fixed - 0.07, 4)}
    used = with_fitted_high_at(card, fitted)
    p = round(fixed - 0.03, 4)
    assert risk_level(p, used) == "high" and risk_level(p, card) != "high"
    off = card.model_copy(update={"bands": card.bands.model_copy(update={"fit": None})})
    assert with_fitted_high_at(off, fitted) is off


def test_each_renewal_is_judged_on_its_last_snapshot_at_the_lead() -> None:
    decided = date(2026, 6, 1)
    days = [decided - timedelta(days=d) for d in (80, 72, 66, 59, 30)]
    keys = [(1, d) for d in days] + [(2, d) for d in days]
    probs = [0.1, 0.2, 0.3, 0.9, 0.95, 0.11, 0.21, 0.31, 0.91, 0.96]
    later = decided + timedelta(days=365)
    outcomes = {1: [(decided, True, None), (later, False, None)], 2: [(decided, False, None)]}
    got = judged_risks(list(reversed(keys)), list(reversed(probs)), outcomes, 60)
    # 66 days ahead is the last one 60-73 days before; 59 is too late; the loss ends account 1
    assert got == [(1, 60, 0.3, True), (2, 60, 0.31, False)]
    assert fit_high_at_on_training(keys, probs, outcomes, BandFit(min_won=1, min_lost=1)) == (
        fit_high_at(got, BandFit(min_won=1, min_lost=1))
    )
