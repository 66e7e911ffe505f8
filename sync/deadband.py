"""Write-back dead-bands: a written value changes only when its meaning changes, so daily
drift (a score 72 -> 73, a risk 31.4% -> 32.0%, two reasons swapping places) does not fire
every account's CRM triggers, flows and field history each day. The dashboard keeps exact
values; only what is written outside waits.

- A number (score, risk, trend) is rewritten when it moves by more than its band from the
  value written. The renewal risk's band also grows with the risk (`risk_share` of the value
  written: 30% -> 40% waits, 5% -> 11% does not), except when its level changes: a new
  level is held only within the absolute band, as any label (below).
- A label derived from a number (health status from the score, risk level from the risk)
  moves with its number: when the number's move is within its band the label waits too
  (hysteresis: an account sitting on a cut-off does not flip Yellow/Green every day), and
  when the number is written the label is written with it, so a record never shows a green
  status beside a yellow score. A label that changes while its written number does not
  (the score rounds to the same integer, a new scorecard's cut-offs) waits while the exact
  number is within its band of the written label's range (the planner says which labels
  are in reach, from the cut-offs the snapshot was banded with): a score sitting on a
  cut-off does not flip the status back and forth, and new cut-offs that clearly move an
  account are written at once.
- An explanation follows the number it explains (`follow`): the health reasons go with the
  score, the risk drivers with the risk. A changed explanation is written whenever its
  number or label is written (the record is written anyway), so a record shows one coherent
  state and a new reason for the move is not held behind an unchanged top one; while its
  number waits, it waits too, except when it appears or is cleared. Without `follow`, an
  explanation is judged on its own by the rules below.
- Reason lists ("active users down 42%; renewal in 45 days; ...", the first few of an
  account's reasons joined) are held while everything written is still true and still
  leads: every reason written still applies — the same words, each number within `text`
  (relative) of the one written, found anywhere in the account's current list, in any
  order — and the account's top reason is among them. A reason that went, a new top
  reason, or a number that moved further rewrites the text; a new minor reason (below the
  top) waits for the next rewrite.
- Ranked items with a strength (risk drivers: a push on the risk's log-odds, listed from a
  threshold) get hysteresis on that threshold (`driver`): a written item still applies
  until it falls `driver` under the threshold, and an item within `driver` of it either
  side is "weak": it cannot force a rewrite as a new top item or as the first of an empty
  list. A driver that clearly went or clearly arrived at the top is written at once.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

NUMBER = re.compile(r"-?\d+(?:[.,]\d+)*%?")


@dataclass(frozen=True)
class FieldBands:
    """Which written fields are numbers and texts: numeric field -> (its band in DeadBand, the
    label field that must agree with it); declared by the write-back planner, beside the fields."""

    numeric: Mapping[str, tuple[str, str | None]]
    texts: frozenset[str]
    explains: Mapping[str, str] = field(default_factory=dict)  # text field -> its number


@dataclass(frozen=True)
class DeadBand:
    """Largest change not written, in each field's own units (0 writes every change)."""

    score: float = 3.0  # health score points
    risk: float = 5.0  # renewal-risk percentage points
    trend: float = 5.0  # 28-day trend points
    text: float = 0.2  # numbers inside reason texts: largest relative move not written
    percent: float = 2.0  # a percentage inside a reason text: largest move in points not written
    # renewal risk, relative: a move within this share of the risk written also waits (25% ->
    # 30% is a fifth), unless the risk level changes; then only `risk` applies
    risk_share: float = 0.35
    # risk drivers (log-odds of push): a written driver stays written until its push falls this
    # far under the listing threshold, and a new one forces a rewrite only this far above it
    driver: float = 0.1
    # an explanation (reasons, risk drivers) is written with its number, never alone
    follow: bool = True


def _number(text: Any) -> float | None:
    try:
        return None if text in (None, "") else float(text)
    except (TypeError, ValueError):
        return None


ITEM_SEPARATOR = "; "  # how a connector joins a list of reasons into one text


def ranked_items(
    listed: Sequence[Mapping[str, Any]],
    near: Sequence[Mapping[str, Any]],
    threshold: float,
    margin: float,
) -> tuple[list[str], frozenset[str]]:
    """Hysteresis on a listing threshold, for a list of items with a strength
    ({"text", "contribution"}: risk drivers): the texts that still apply — those listed, and
    those under the threshold by at most `margin` — and the weak ones among them (within
    `margin` of the threshold either side), which keep a written list but cannot force a
    rewrite by appearing."""
    floor, clear = threshold - margin, threshold + margin
    items = [str(d.get("text")) for d in listed]
    items += [str(d.get("text")) for d in near if float(d.get("contribution", 0.0)) >= floor]
    weak = {
        str(d.get("text"))
        for d in [*listed, *near]
        if floor <= float(d.get("contribution", clear)) < clear
    }
    return items, frozenset(weak)


HELD = "held"  # the verdict of a change whose write can wait


def waiting(
    changes: Mapping[str, tuple[str | None, str | None]],
    band: DeadBand,
    fields: FieldBands,
    items: Mapping[str, Sequence[str]] | None = None,
    weak: Mapping[str, Collection[str]] | None = None,
    reach: Mapping[str, Collection[str]] | None = None,
    mapped: Collection[str] | None = None,
) -> set[str]:
    """The fields of one record's changes (field -> (written, new)) whose write can wait.
    `items`: for a reason-list field, every reason text that still applies now (not only the
    first few that are written), so a written reason that still applies can be recognised;
    `weak`: those of them too close to their listing threshold to force a rewrite by
    appearing (see `ranked_items`); `reach`: for a label field, the labels its exact number
    would have anywhere within its band (a label alone held while the written one is among
    them); `mapped`: the fields this record is written with (None: all), so an explanation
    whose number is not written at all is judged on its own."""
    judged = verdicts(changes, band, fields, items, weak, reach, mapped)
    return {f for f, why in judged.items() if why == HELD}


def verdicts(
    changes: Mapping[str, tuple[str | None, str | None]],
    band: DeadBand,
    fields: FieldBands,
    items: Mapping[str, Sequence[str]] | None = None,
    weak: Mapping[str, Collection[str]] | None = None,
    reach: Mapping[str, Collection[str]] | None = None,
    mapped: Collection[str] | None = None,
) -> dict[str, str]:
    """Each changed field's verdict: HELD, or why it is written ("moved 4.2", "reason gone",
    ...), so the write wave can be broken down by what caused it (bench/daywave.py)."""
    out: dict[str, str] = {}
    for fld, (old, new) in changes.items():
        if fld in fields.texts:
            current, faint = (items or {}).get(fld), (weak or {}).get(fld, frozenset())
            out[fld] = _text_verdict(new, old, band, current, faint)
        elif fld in fields.numeric:
            kind, label = fields.numeric[fld]
            width = getattr(band, kind)
            share = getattr(band, f"{kind}_share", 0.0)
            if share and (label is None or label not in changes):  # never holds a new label
                width = max(width, share * abs(_number(old) or 0.0))
            out[fld] = _number_verdict(new, old, width)
        else:
            out[fld] = "not banded"
    # a label waits with its number (within its band) and is written with it otherwise; alone,
    # it waits while the label written is still in reach of the exact number
    for fld, (_, label) in fields.numeric.items():
        if label is None or label not in changes:
            continue
        number = out.get(fld)
        if number:
            out[label] = HELD if number == HELD else "with its number"
        else:
            held = changes[label][0] in (reach or {}).get(label, ())
            out[label] = HELD if held else "label alone"
    if band.follow:
        _follow(out, changes, fields, mapped)
    return out


def _follow(
    out: dict[str, str],
    changes: Mapping[str, tuple[str | None, str | None]],
    fields: FieldBands,
    mapped: Collection[str] | None,
) -> None:
    """An explanation whose number (and the number's label) is not written waits with it,
    unless it appears or is cleared; one whose number is written is written with it when it
    changed at all (the record is written anyway, and its reasons must say why the number
    moved: a new second reason would otherwise wait behind an unchanged top one); one whose
    number is not written at all (not mapped) keeps its own verdict."""
    for text, number in fields.explains.items():
        why = out.get(text)
        if why in (None, "appeared", "cleared") or changes[text][1] in (None, ""):
            continue  # unchanged, or appearing/going as a whole
        if mapped is not None and number not in mapped:
            continue
        label = fields.numeric.get(number, ("", None))[1]
        moved = [out.get(f) for f in (number, label) if f is not None]
        if any(w not in (None, HELD) for w in moved):
            out[text] = "with its number" if why == HELD else why
        else:
            out[text] = HELD


def _number_verdict(new: str | None, old: str | None, width: float) -> str:
    a, b = _number(new), _number(old)
    if a is None or b is None:  # appearing or disappearing is a change of meaning
        return "appeared" if b is None else "cleared"
    move = abs(a - b)
    return HELD if move <= width + 1e-9 else f"moved {move:g}"


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


def _text_verdict(
    new: str | None,
    old: str | None,
    band: DeadBand,
    current: Sequence[str] | None = None,
    weak: Collection[str] = frozenset(),
) -> str:
    shown = [t for t in (new or "").split(ITEM_SEPARATOR) if t and t not in weak]
    if not isinstance(old, str):  # never written (or cleared): whatever there is now
        return "appeared"
    if old == "":  # an empty list was written
        if isinstance(new, str) and new and band.text > 0 and not shown:
            return HELD  # only weak items appeared: none has clearly crossed its threshold
        return "appeared"
    if not isinstance(new, str) or band.text <= 0:
        return "cleared" if not isinstance(new, str) else "not banded"
    tolerance, points = band.text, band.percent
    if _same_reason(new, old, tolerance, points):
        return HELD
    if not current:
        if not new:
            return "reason gone"  # every written reason went
        return "other words" if _words(new) != _words(old) else "number moved"
    written = old.split(ITEM_SEPARATOR)
    if shown and not any(_same_reason(shown[0], w, tolerance, points) for w in written):
        return "new top reason"  # the account's top reason (a clear one) is not written
    free = list(current)
    for w in written:  # each written reason must still apply, matched once
        hit = next((i for i, c in enumerate(free) if _same_reason(c, w, tolerance, points)), None)
        if hit is None:
            alike = any(_words(c) == _words(w) for c in free)
            return "number moved" if alike else "reason gone"
        free.pop(hit)
    return HELD
