"""Fitted measure weights keep the score's form: non-negative shares that sum to 1, the measure
that tells lost renewals apart gets the most, a noise measure next to nothing, the profile
scores with exactly those shares, and thresholds move to the values' 5th/95th percentiles."""

from __future__ import annotations

import random

import pytest

from scoring.config import Linear, load_scorecard
from scoring.health import score_health
from scoring.weight_fit import fit_measure_weights, fit_thresholds, with_fitted_weights
from tests.scoring.factories import healthy_signals

CARD = load_scorecard()


def _rows(n: int = 600, seed: int = 2) -> tuple[list[dict[str, float]], list[int]]:
    """csat drives the loss; seat use is noise; every other measure is missing."""
    rng = random.Random(seed)
    rows, labels = [], []
    for _ in range(n):
        csat = rng.uniform(0.3, 1.0)
        lost = rng.random() < 1 / (1 + pow(2.718, 8 * (csat - 0.55)))
        rows.append({"csat": csat, "active_users_per_seat": rng.uniform(0.2, 0.8)})
        labels.append(int(lost))
    return rows, labels


def test_the_telling_measure_gets_the_weight_and_shares_sum_to_one() -> None:
    rows, labels = _rows()
    shares = fit_measure_weights(CARD, rows, labels)
    assert set(shares) <= {"csat", "active_users_per_seat"}
    assert all(v > 0 for v in shares.values())
    assert sum(shares.values()) == pytest.approx(1.0, abs=0.002)
    assert shares["csat"] > 0.8, shares


def test_the_profile_scores_with_exactly_the_fitted_shares() -> None:
    shares = {"csat": 0.6, "active_users_per_seat": 0.3, "first_reply_hours": 0.1}
    card = with_fitted_weights(CARD, shares, "renewal")
    sig = healthy_signals(days_to_renewal=60.0, csat=0.5, active_users_per_seat=0.4)
    r = score_health(sig, card, [])
    assert r.profile == "renewal"
    expected = 100 * sum(shares[m] * r.measure_scores[m] for m in shares) / sum(shares.values())
    assert r.score == pytest.approx(expected, abs=0.05)
    lost = {x.measure: x.points_lost for x in r.reasons}
    assert sum(lost.values()) == pytest.approx(100 - (r.score or 0), abs=0.1)
    assert card.profiles["adoption"] == CARD.profiles["adoption"], "other profiles keep theirs"


def test_thresholds_span_the_values_5th_to_95th_percentile_in_the_measures_direction() -> None:
    rows = [{"first_reply_hours": float(h), "csat": h / 100} for h in range(1, 101)]
    card = fit_thresholds(CARD, rows)
    reply = card.measures["first_reply_hours"].normalization
    csat = card.measures["csat"].normalization
    assert isinstance(reply, Linear) and isinstance(csat, Linear)
    assert (reply.poor, reply.good) == (95.0, 6.0), "lower is better: poor is the high end"
    assert csat.poor == pytest.approx(0.06, abs=0.0015) and csat.good == 0.95  # 2 digits
    assert card.measures["dau_mau"] == CARD.measures["dau_mau"], "too few values: kept"


def test_one_outcome_only_is_refused() -> None:
    rows, _ = _rows(50)
    with pytest.raises(ValueError, match="lost and won"):
        fit_measure_weights(CARD, rows, [0] * len(rows))
