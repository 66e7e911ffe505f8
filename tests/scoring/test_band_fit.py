"""Band cut-offs fitted for lead time: the false-alarm budget holds, order holds, too little
history fits nothing, and a scorecard that opts out keeps its own cut-offs."""

from __future__ import annotations

import random

import pytest

from scoring.band_fit import cutoff, fit_bands, fit_leads, with_fitted_bands
from scoring.config import BandFit, load_scorecard
from scoring.health import band_for


def _judged(won: int, lost: int, seed: int = 3) -> list[tuple[int, int, float, bool]]:
    rng = random.Random(seed)
    rows = [(i, 60, rng.gauss(80, 6), False) for i in range(won)]
    rows += [(won + i, 60, rng.gauss(68, 8), True) for i in range(lost)]
    return rows


def test_cutoff_puts_at_most_the_budget_of_won_scores_below_it() -> None:
    won = [float(x) for x in range(100)]
    assert cutoff(won, 0.10) == 10.0 and sum(s < 10.0 for s in won) == 10
    assert cutoff([70.0] * 50, 0.10) == 70.0, "ties: nothing strictly below, no alarm"
    assert cutoff(won, 0.999) == 99.0


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_fitted_bands_keep_the_false_alarm_budget_and_order(seed: int) -> None:
    judged = _judged(300, 80, seed)
    fitted = fit_bands(judged, BandFit())
    assert fitted is not None
    won = [s for _, _, s, lost in judged if not lost]
    lost = [s for _, _, s, is_lost in judged if is_lost]
    red, green = fitted["red_below"], fitted["green_at"]
    share = sum(s < red for s in won) / len(won)
    assert share == pytest.approx(fitted["red_false_alarms"], abs=1e-4) and share <= 0.09
    assert sum(s < green for s in won) / len(won) <= 0.35
    assert red <= green
    assert fitted["red_detected"] == round(sum(s < red for s in lost) / len(lost), 4)
    assert fitted["red_detected"] > 0.3, "lost renewals score lower, so red catches many"


def test_too_little_history_fits_nothing() -> None:
    assert fit_bands(_judged(39, 50), BandFit()) is None
    assert fit_bands(_judged(300, 9), BandFit()) is None
    assert fit_bands(_judged(300, 9), BandFit(min_lost=5)) is not None


def test_fitted_cut_offs_apply_only_when_the_scorecard_asks() -> None:
    card = load_scorecard()
    fitted = {"red_below": 72.5, "green_at": 80.0}
    used = with_fitted_bands(card, fitted)
    assert band_for(70.0, used) == "red" and band_for(79.0, used) == "yellow"
    assert band_for(70.0, card) == "yellow", "the scorecard itself is not changed"
    off = card.model_copy(update={"bands": card.bands.model_copy(update={"fit": None})})
    assert with_fitted_bands(off, fitted) is off
    assert with_fitted_bands(card, None) is card


def test_leads_judged_around_the_configured_one() -> None:
    assert fit_leads(BandFit()) == (30, 60, 90)
    assert fit_leads(BandFit(lead_days=1)) == (1,)


def test_bad_fit_config_names_the_key() -> None:
    with pytest.raises(ValueError, match="red_false_alarms must not exceed"):
        BandFit(red_false_alarms=0.5, yellow_false_alarms=0.2)
