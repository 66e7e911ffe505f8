"""A CSM's override applied to a computed score: band, score and reasons that agree.

What is written back must agree with itself: an override that sets only a band moves the
score to the nearest whole number inside that band (red 72 -> 49 with the default bands), and
the first reason names the override, who set it, until when, why, and what was computed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from model.tables import ScoreOverride
from scoring.config import Scorecard
from scoring.health import band_for


@dataclass(frozen=True)
class Overridden:
    score: float | None
    band: str
    reasons: list[dict[str, Any]]


def band_range(band: str, scorecard: Scorecard) -> tuple[float, float]:
    """The whole-number scores (lowest, highest) that read as `band` once rounded."""
    red_below, green_at = scorecard.bands.red_below, scorecard.bands.green_at
    if band == "red":
        return 0.0, float(int(red_below - 0.5))
    if band == "green":
        return float(round(green_at + 0.49)), 100.0
    return float(round(red_below + 0.49)), float(int(green_at - 0.5))


def apply_override(
    score: float | None,
    band: str,
    reasons: list[dict[str, Any]],
    override: ScoreOverride,
    scorecard: Scorecard,
) -> Overridden:
    """The score, band and reasons to store and write back while `override` is active."""
    new_band = override.band or band_for(override.score, scorecard)
    if override.score is not None:
        new_score: float | None = override.score
    elif score is None:
        new_score = None
    else:
        low, high = band_range(new_band, scorecard)
        new_score = min(max(score, low), high)
    computed = "no score" if score is None else f"{round(score)}"
    text = (
        f"Overridden to {new_band.upper()} by {override.author or 'a CSM'} until "
        f"{override.expires_at:%Y-%m-%d}: {override.reason} (computed {computed}, {band})"
    )
    first = {
        "measure": "override",
        "points_lost": 0.0,
        "value": override.score,
        "threshold": None,
        "text": text,
    }
    return Overridden(new_score, new_band, [first, *reasons])
