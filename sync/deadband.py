"""Write-back dead-bands: a numeric field is rewritten only when it moves by more than its
band, so daily drift (a score 72 -> 73, a risk 31.4% -> 32.0%) does not fire every account's
Salesforce triggers and flows each day. The dashboard keeps exact values; only what is
written outside is held. A field whose label changes in the same write (status, risk level)
is always written with it, so a record never shows a green status beside a yellow score.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# numeric field -> (its band in DeadBand, the label field that must agree with it)
NUMERIC_FIELDS: dict[str, tuple[str, str | None]] = {
    "Health_Score__c": ("score", "Health_Status__c"),
    "Renewal_Risk__c": ("risk", "Renewal_Risk_Level__c"),
    "Health_Trend__c": ("trend", None),
    "health_score": ("score", "health_status"),
    "renewal_risk": ("risk", "renewal_risk_level"),
}


@dataclass(frozen=True)
class DeadBand:
    """Largest change not written, in each field's own units (0 writes every change)."""

    score: float = 1.0  # health score points
    risk: float = 2.0  # renewal-risk percentage points
    trend: float = 2.0  # 28-day trend points


def _number(text: Any) -> float | None:
    try:
        return None if text in (None, "") else float(text)
    except (TypeError, ValueError):
        return None


def held(
    field: str, new: str | None, old: str | None, labels_changing: set[str], band: DeadBand
) -> bool:
    """Whether writing `new` over `old` can wait: a small move of a numeric field whose label
    is not changing in the same write."""
    if field not in NUMERIC_FIELDS:
        return False
    kind, label = NUMERIC_FIELDS[field]
    if label is not None and label in labels_changing:
        return False
    a, b = _number(new), _number(old)
    if a is None or b is None:  # appearing or disappearing is a change of meaning
        return False
    return abs(a - b) <= getattr(band, kind) + 1e-9
