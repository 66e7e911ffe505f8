"""Red and high risk fitted together for the union flag: the union keeps the out-of-sample
budget at the widest equal tail, a new book's won renewals are flagged within budget on
average, too few renewals or `flag_false_alarms: null` fit nothing, the judged snapshot is the
lead-time one, and the fit is what the model version stores."""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest

from scoring.alert_fit import allowed_alarms
from scoring.config import BandFit
from scoring.flag_fit import equal_tail_cutoffs, fit_flags, judged_pairs

Pair = tuple[int, float, float, bool]


def _pairs(won: int, lost: int, seed: int) -> list[Pair]:
    """Correlated score and probability: churners score lower and are predicted higher."""
    rng = random.Random(seed)
    rows: list[Pair] = []
    for i in range(won + lost):
        is_lost = i >= won
        latent = rng.gauss(1.2 if is_lost else 0.0, 1.0)
        score = round(75 - 8 * (0.7 * latent + 0.7 * rng.gauss(0, 1)), 1)
        p = round(1 / (1 + 2.718 ** -(latent + 0.5 * rng.gauss(0, 1) - 2)), 4)
        rows.append((i, score, p, is_lost))
    return rows


def _union(rows: list[tuple[float, float]], red: float, high: float) -> int:
    return sum(s < red or p >= high for s, p in rows)


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("budget", [0.05, 0.10, 0.20])
def test_the_union_keeps_the_budget_at_the_widest_equal_tail(seed: int, budget: float) -> None:
    pairs = _pairs(400, 90, seed)
    fitted = fit_flags(pairs, BandFit(flag_false_alarms=budget))
    assert fitted is not None
    won = [(s, p) for _, s, p, lost in pairs if not lost]
    lost = [(s, p) for _, s, p, is_lost in pairs if is_lost]
    red, high, n = fitted["red_below"], fitted["high_at"], len(won)
    k = _union(won, red, high)
    assert (k + 1) / (n + 1) <= budget, "a new won renewal is flagged within budget on average"
    assert fitted["false_alarms"] == round(k / n, 4)
    assert fitted["detected"] == round(_union(lost, red, high) / len(lost), 4)
    assert fitted["detected"] > fitted["false_alarms"] and fitted["flag"] == "red or high"
    assert any(s < red for s, _ in won) and any(p >= high for _, p in won), "both carry some"
    assert k > allowed_alarms(n, budget) - 10, "the budget is spent, not left on the table"


def test_a_larger_budget_never_catches_fewer() -> None:
    pairs = _pairs(500, 120, 4)
    fits = [fit_flags(pairs, BandFit(flag_false_alarms=b)) for b in (0.02, 0.05, 0.1, 0.2)]
    assert all(f is not None for f in fits)
    caught = [f["detected"] for f in fits if f is not None]
    reds = [f["red_below"] for f in fits if f is not None]
    highs = [f["high_at"] for f in fits if f is not None]
    assert caught == sorted(caught) and caught[0] < caught[-1]
    assert reds == sorted(reds) and highs == sorted(highs, reverse=True)


def test_out_of_sample_the_union_stays_within_budget_on_average() -> None:
    shares = []
    for seed in range(40):
        fitted = fit_flags(_pairs(300, 60, seed), BandFit(flag_false_alarms=0.10))
        assert fitted is not None
        fresh = [(s, p) for _, s, p, lost in _pairs(2000, 0, 1000 + seed) if not lost]
        shares.append(_union(fresh, fitted["red_below"], fitted["high_at"]) / len(fresh))
    assert sum(shares) / len(shares) <= 0.10
    assert sum(shares) / len(shares) > 0.08, "the budget is spent, not wasted"


def test_too_few_renewals_or_a_null_budget_fit_nothing() -> None:
    pairs = _pairs(400, 90, 1)
    assert fit_flags(pairs, BandFit(flag_false_alarms=None)) is None
    assert fit_flags(pairs[:30] + pairs[-20:], BandFit()) is None, "30 won < min_won 40"
    assert fit_flags(pairs[:400] + pairs[-5:], BandFit()) is None, "5 lost < min_lost 10"


def test_no_affordable_alarm_flags_nothing() -> None:
    won = [(70.0, 0.2)] * 5
    assert equal_tail_cutoffs(won, k=-1) == (0.0, 0.9999)
    assert _union(won, *equal_tail_cutoffs(won, k=-1)) == 0


def test_the_judged_snapshot_is_the_last_one_lead_days_ahead_and_a_loss_ends_the_account() -> None:
    decided = date(2026, 6, 1)
    days = [decided - timedelta(days=d) for d in (80, 70, 62, 55)]
    keys = [(1, d) for d in days] + [(2, decided - timedelta(days=65))]
    probs = [0.1, 0.2, 0.3, 0.4, 0.5]
    scores: list[float | None] = [90.0 - 10 * i for i in range(len(keys))]
    outcomes = {
        1: [(decided, True, None), (decided + timedelta(days=365), False, None)],
        2: [(decided, False, None)],
    }
    got = judged_pairs(keys, probs, scores, outcomes, lead=60)
    assert got == [(1, 70.0, 0.3, True), (2, 50.0, 0.5, False)]
    scores[2] = None  # a snapshot without a computed score is grey and not judged
    assert judged_pairs(keys, probs, scores, outcomes, lead=60)[0] == (1, 80.0, 0.2, True)
