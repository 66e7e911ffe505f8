"""Plain-words explanations: measure values and thresholds as a CS manager would say them."""

from __future__ import annotations

from scoring.config import Measure, Unit
from scoring.normalize import threshold
from scoring.signals import AccountSignals


def format_value(unit: Unit, v: float) -> str:
    """A raw value in its unit: 0.42 percent -> '42%', -0.42 change -> 'down 42%'."""
    if unit == "percent":
        return f"{v * 100:.0f}%"
    if unit == "change":
        pct = round(v * 100)
        return "unchanged" if pct == 0 else f"{'up' if pct > 0 else 'down'} {abs(pct)}%"
    if unit == "hours":  # three days and more read as days
        return f"{v / 24:.0f} days" if v >= 72 else f"{v:.1f} hours"
    if unit == "days":
        return f"{v:.0f} days"
    if unit in ("count", "score"):
        return f"{v:.0f}"
    if unit == "flag":
        return "yes" if v else "no"
    return f"{v:.2f}"


def _format_threshold(unit: Unit, t: float) -> str:
    if unit == "change" and t == 0:
        return "no drop"
    if unit == "change":
        return f"{t * 100:+.0f}%"
    return format_value(unit, t)


def measure_text(name: str, m: Measure, value: float, signals: AccountSignals) -> str:
    """'active users down 42% vs 90-day baseline (healthy: +0% or better)'."""
    shown = format_value(m.unit, value)
    plural = "" if shown == "1" else "s"  # "{value} champion{s}": 1 champion, 2 champions
    text = m.text.format(value=shown, tag=signals.repeat_issue_tag or "same tag", s=plural)
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
