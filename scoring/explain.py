"""Plain-words explanations: measure values and thresholds as a CS manager would say them."""

from __future__ import annotations

from scoring.config import Measure
from scoring.normalize import threshold
from scoring.signals import AccountSignals
from scoring.units import Unit, format_value, phrase


def _format_threshold(unit: Unit, t: float) -> str:
    if unit == "change" and t == 0:
        return "no drop"
    if unit == "change":
        return f"{t * 100:+.0f}%"
    return format_value(unit, t)


def measure_text(name: str, m: Measure, value: float, signals: AccountSignals) -> str:
    """'active users down 42% vs 90-day baseline (healthy: +0% or better)'."""
    text = phrase(m.text, m.unit, value, signals.repeat_issue_tag)
    t = threshold(m)
    if t is None or m.unit == "flag":
        return text
    side = "or better" if m.unit == "change" and t != 0 else "" if m.unit == "change" else "or more"
    if m.direction == "lower_is_better":
        side = "or less"
    return f"{text} (healthy: {_format_threshold(m.unit, t)} {side}".rstrip() + ")"


def missing_text(name: str) -> str:
    return f"no data for {name.replace('_', ' ')}"


def stale_text(name: str, age_key: str | None, age: float) -> str:
    return f"{age_key or 'source'} data is {age:.0f} days old, so {name.replace('_', ' ')} is stale"


def coverage_text(coverage: float, minimum: float) -> str:
    return (
        f"not enough data to score: {coverage * 100:.0f}% of the scorecard has fresh data "
        f"(needs {minimum * 100:.0f}%)"
    )
