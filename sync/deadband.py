"""Write-back dead-bands: a written value changes only when its meaning changes, so daily
drift (a score 72 -> 73, a risk 31.4% -> 32.0%, two reasons swapping places) does not fire
every account's CRM triggers, flows and field history each day. The dashboard keeps exact
values; only what is written outside waits.

- A number (score, risk, trend) is rewritten when it moves by more than its band from the
  value written.
- A label derived from a number (health status from the score, risk level from the risk)
  moves with its number: when the number's move is within its band the label waits too
  (hysteresis: an account sitting on a cut-off does not flip Yellow/Green every day), and
  when the number is written the label is written with it, so a record never shows a green
  status beside a yellow score. A label that changes while its number does not (a new
  scorecard's cut-offs) is written at once.
- Reason lists ("active users down 42%; renewal in 45 days; ...", the first few of an
  account's reasons joined) are held while everything written is still true and still
  leads: every reason written still applies — the same words, each number within `text`
  (relative) of the one written, found anywhere in the account's current list, in any
  order — and the account's top reason is among them. A reason that went, a new top
  reason, or a number that moved further rewrites the text; a new minor reason (below the
  top) waits for the next rewrite.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

NUMBER = re.compile(r"-?\d+(?:[.,]\d+)*%?")


@dataclass(frozen=True)
class FieldBands:
    """Which written fields are numbers and texts: numeric field -> (its band in DeadBand, the
    label field that must agree with it); declared by the write-back planner, beside the fields."""

    numeric: Mapping[str, tuple[str, str | None]]
    texts: frozenset[str]


@dataclass(frozen=True)
class DeadBand:
    """Largest change not written, in each field's own units (0 writes every change)."""

    score: float = 2.0  # health score points
    risk: float = 3.0  # renewal-risk percentage points
    trend: float = 5.0  # 28-day trend points
    text: float = 0.2  # numbers inside reason texts: largest relative move not written
    percent: float = 2.0  # a percentage inside a reason text: largest move in points not written


def _number(text: Any) -> float | None:
    try:
        return None if text in (None, "") else float(text)
    except (TypeError, ValueError):
        return None


ITEM_SEPARATOR = "; "  # how a connector joins a list of reasons into one text


def waiting(
    changes: Mapping[str, tuple[str | None, str | None]],
    band: DeadBand,
    fields: FieldBands,
    items: Mapping[str, Sequence[str]] | None = None,
) -> set[str]:
    """The fields of one record's changes (field -> (written, new)) whose write can wait.
    `items`: for a reason-list field, every reason text the account has now (not only the
    first few that are written), so a written reason that still applies can be recognised."""
    out = set()
    for fld, (old, new) in changes.items():
        if fld in fields.texts:
            if _text_held(new, old, band, (items or {}).get(fld)):
                out.add(fld)
        elif fld in fields.numeric:
            kind, _ = fields.numeric[fld]
            if _number_held(new, old, getattr(band, kind)):
                out.add(fld)
    # a label waits with its number (within its band) and is written with it otherwise
    for fld, (_, label) in fields.numeric.items():
        if label is not None and label in changes and fld in out:
            out.add(label)
    return out


def _number_held(new: str | None, old: str | None, width: float) -> bool:
    a, b = _number(new), _number(old)
    if a is None or b is None:  # appearing or disappearing is a change of meaning
        return False
    return abs(a - b) <= width + 1e-9


def _words(text: str) -> str:
    return NUMBER.sub(lambda m: "#%" if m.group().endswith("%") else "#", text)


def _same_reason(new: str, old: str, tolerance: float, points: float = 0.0) -> bool:
    """The same words, every number within `tolerance` (relative) of the old one, or for a
    percentage within `points` percentage points ("active users down 4%" -> "3%")."""
    if _words(new) != _words(old):
        return False  # other words, or a number became a percentage
    pairs = zip(NUMBER.findall(new), NUMBER.findall(old), strict=True)
    for a_text, b_text in pairs:
        a = float(a_text.rstrip("%").replace(",", ""))
        b = float(b_text.rstrip("%").replace(",", ""))
        width = tolerance * max(abs(a), abs(b))
        if a_text.endswith("%"):
            width = max(width, points)
        if abs(a - b) > width + 1e-9:
            return False
    return True


def _text_held(
    new: str | None, old: str | None, band: DeadBand, current: Sequence[str] | None = None
) -> bool:
    if not isinstance(new, str) or not isinstance(old, str) or band.text <= 0:
        return False
    tolerance, points = band.text, band.percent
    if _same_reason(new, old, tolerance, points):
        return True
    if not current:
        return False
    written = old.split(ITEM_SEPARATOR)
    shown = new.split(ITEM_SEPARATOR)
    if not any(_same_reason(shown[0], w, tolerance, points) for w in written):
        return False  # the account's top reason is not among those written
    free = list(current)
    for w in written:  # each written reason must still apply, matched once
        hit = next((i for i, c in enumerate(free) if _same_reason(c, w, tolerance, points)), None)
        if hit is None:
            return False
        free.pop(hit)
    return True
