"""A measure's unit, and a value written in it as a CS owner reads it (the account page, the
reasons and the renewal-risk drivers use the same words)."""

from __future__ import annotations

from typing import Literal

Unit = Literal["ratio", "percent", "change", "count", "hours", "days", "score", "flag"]


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


def phrase(template: str, unit: Unit, value: float, tag: str | None = None) -> str:
    """A measure's text with its value in its unit: "tickets take 3 days to resolve on average"
    ("{value} champion{s}": 1 champion, 2 champions; "{tag}": the repeated issue's tag)."""
    shown = format_value(unit, value)
    plural = "" if shown == "1" else "s"
    return template.format(value=shown, tag=tag or "same tag", s=plural)
