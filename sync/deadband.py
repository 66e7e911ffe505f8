"""Write-back dead-bands: a numeric field is rewritten only when it moves by more than its
band, so daily drift (a score 72 -> 73, a risk 31.4% -> 32.0%) does not fire every account's
CRM triggers and flows each day. The dashboard keeps exact values; only what is
written outside is held. A field whose label changes in the same write (status, risk level)
is always written with it, so a record never shows a green status beside a yellow score.

Reason texts carry numbers too ("active users down 42%", "renewal in 45 days"): a text is
held while its words are the same and each of its numbers is within `text` (relative) of the
one written — a new or dropped reason, or a number that moved further, rewrites it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

NUMBER = re.compile(r"-?\d+(?:[.,]\d+)*")


@dataclass(frozen=True)
class FieldBands:
    """Which written fields are numbers and texts: numeric field -> (its band in DeadBand, the
    label field that must agree with it); declared by the write-back planner, beside the fields."""

    numeric: Mapping[str, tuple[str, str | None]]
    texts: frozenset[str]


@dataclass(frozen=True)
class DeadBand:
    """Largest change not written, in each field's own units (0 writes every change)."""

    score: float = 1.0  # health score points
    risk: float = 2.0  # renewal-risk percentage points
    trend: float = 2.0  # 28-day trend points
    text: float = 0.2  # numbers inside reason texts: largest relative move not written


def _number(text: Any) -> float | None:
    try:
        return None if text in (None, "") else float(text)
    except (TypeError, ValueError):
        return None


def held(
    field: str,
    new: str | None,
    old: str | None,
    labels_changing: set[str],
    band: DeadBand,
    fields: FieldBands,
) -> bool:
    """Whether writing `new` over `old` can wait: a small move of a numeric field whose label
    is not changing in the same write, or a reason text whose words hold."""
    if field in fields.texts:
        return _text_held(new, old, band.text)
    if field not in fields.numeric:
        return False
    kind, label = fields.numeric[field]
    if label is not None and label in labels_changing:
        return False
    a, b = _number(new), _number(old)
    if a is None or b is None:  # appearing or disappearing is a change of meaning
        return False
    return abs(a - b) <= getattr(band, kind) + 1e-9


def _text_held(new: str | None, old: str | None, tolerance: float) -> bool:
    if new is None or old is None or tolerance <= 0:
        return False
    if NUMBER.sub("#", new) != NUMBER.sub("#", old):
        return False  # a reason appeared, went, or changed its words
    pairs = zip(NUMBER.findall(new), NUMBER.findall(old), strict=True)
    for a_text, b_text in pairs:
        a, b = float(a_text.replace(",", "")), float(b_text.replace(",", ""))
        if abs(a - b) > tolerance * max(abs(a), abs(b)) + 1e-9:
            return False
    return True
