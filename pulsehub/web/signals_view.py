"""An account's signals as the CS owner reads them: value, healthy threshold and measure score."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from scoring.config import Scorecard
from scoring.normalize import threshold
from scoring.units import format_value


@dataclass(frozen=True)
class SignalRow:
    name: str
    group: str
    value: str
    healthy: str
    score: float | None
    weight: float


def signal_rows(signals: dict[str, Any] | None, scorecard: Scorecard) -> list[SignalRow]:
    """Every scorecard measure the snapshot has a value for, by group; thresholds from the scorecard."""
    signals = signals or {}
    scores = signals.get("measure_scores") or {}
    rows = []
    for name, m in scorecard.measures.items():
        raw = signals.get(name)
        if not isinstance(raw, int | float) or isinstance(raw, bool):
            continue
        t = threshold(m)
        if t is None or m.unit == "flag":
            healthy = ""
        else:
            side = "or less" if m.direction == "lower_is_better" else "or more"
            healthy = f"{format_value(m.unit, t)} {side}"
        rows.append(SignalRow(name.replace("_", " "), m.group, format_value(m.unit, float(raw)),
                              healthy, scores.get(name), m.weight))  # fmt: skip
    return sorted(rows, key=lambda r: (r.group, r.name))
