"""Numbers as people read them, shared by the dashboard and the terminal reports.

Plain functions with no web framework behind them, so a command that prints a table does
not load the dashboard's stack."""

from __future__ import annotations

NONE = "\u2013"  # an en dash for "no value"


def money(v: float | None) -> str:
    if v is None:
        return NONE
    for unit, size in (("M", 1e6), ("k", 1e3)):
        if abs(v) >= size:
            return f"${v / size:,.1f}{unit}"
    return f"${v:,.0f}"


def pct(v: float | None, digits: int = 0) -> str:
    if v is None:
        return NONE
    shown = round(v * 100, digits) + 0.0  # + 0.0 turns a rounded -0.0 into 0.0: never "-0%"
    return f"{shown:.{digits}f}%"


def num(v: float | None, digits: int = 1) -> str:
    if v is None:
        return NONE
    return f"{v:,.0f}" if float(v).is_integer() and digits <= 1 else f"{v:,.{digits}f}"


def band_label(b: str | None) -> str:
    return "not scored" if b is None else b.replace("_", " ")
