"""A fitted renewal-risk model applied without scikit-learn: its stored parameters and arithmetic.

p = sigmoid(a_seg * (intercept + sum(coef_j * z_j)) + b_seg), where z_j are the standardized
expanded features (numbers clipped to their training 2nd-98th percentiles, the training
median for a missing value plus a "missing" indicator, one column per level of a category) and (a_seg, b_seg) is the Platt calibration
of the account's segment (or the global one). A driver's contribution is a_seg * coef_j * z_j
summed over its columns: its push on the log-odds against an average training account, so
the drivers add up to the risk's log-odds minus the average account's.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from scoring import lagged
from scoring.units import Unit, format_value, phrase

MISSING = "missing:"
GLOBAL = "*"
CONSTANT_REL = 1e-9  # a deviation this small next to the column's size: constant in training


def constant_column(mean: float, scale: float) -> bool:
    """Whether a column with this training mean and deviation was constant: 36.5 repeated
    has a mean of 36.49999999999999 and a deviation of 7e-15, not 0."""
    return scale <= CONSTANT_REL * max(1.0, abs(mean))


MIN_DRIVER_LOG_ODDS = 0.25  # smaller pushes are not worth a line in the crm
# drivers down to this push are kept beside the listed ones (not shown), so the write-back can
# keep a written driver that slipped just under the listing threshold (sync/deadband.py)
NEAR_DRIVER_LOG_ODDS = 0.10
NEAR_DRIVERS = "risk_drivers_near"  # the snapshot signal that holds them


@dataclass(slots=True)
class FittedRisk:
    """Parameters of one fitted, calibrated model (JSON-ready via `to_params`)."""

    numeric: list[str]
    categorical: dict[str, list[str]]
    medians: dict[str, float]
    indicators: list[str]  # numeric features that were missing in training: get a 0/1 column
    columns: list[str]  # expanded column names, in coefficient order
    means: list[float]
    scales: list[float]
    coef: list[float]
    intercept: float
    platt: dict[str, list[float]] = field(default_factory=dict)  # segment or "*" -> [a, b]
    clips: dict[str, list[float]] = field(default_factory=dict)  # numeric -> [low, high]
    horizon_days: int = 180
    bands: dict[str, Any] | None = None  # cut-offs fitted beside it (scoring/band_fit.py)
    alert: dict[str, Any] | None = None  # its high_at fitted for lead time (scoring/alert_fit.py)
    version: int | None = None

    def expand(self, features: Mapping[str, Any]) -> list[float]:
        """Raw features -> expanded, unstandardized columns (missing numbers -> median)."""
        out: list[float] = []
        for name in self.numeric:
            v = _number(features.get(name))
            if v is None:
                v = self.medians.get(name, 0.0)
            elif name in self.clips:  # heavy tails (hours, ratios) bounded as in training
                v = min(max(v, self.clips[name][0]), self.clips[name][1])
            out.append(v)
        for name in self.indicators:
            out.append(1.0 if _number(features.get(name)) is None else 0.0)
        for name, levels in self.categorical.items():
            value = _category(features.get(name))
            out.extend(1.0 if value == level else 0.0 for level in levels)
        return out

    def standardized(self, features: Mapping[str, Any]) -> list[float]:
        """Each column centred and scaled as in training; a column that was constant there
        (its stored deviation a floating-point residue, in models fitted before
        `scoring.fit.usable_scales`) carries nothing and reads 0."""
        return [
            0.0 if constant_column(m, s) else (x - m) / s
            for x, m, s in zip(self.expand(features), self.means, self.scales, strict=True)
        ]

    def _calibration(self, segment: str | None) -> tuple[float, float]:
        a, b = self.platt.get(segment or GLOBAL) or self.platt.get(GLOBAL) or [1.0, 0.0]
        return a, b

    def log_odds(self, features: Mapping[str, Any], segment: str | None = None) -> float:
        a, b = self._calibration(segment)
        z = self.intercept + sum(
            c * v for c, v in zip(self.coef, self.standardized(features), strict=True)
        )
        return a * z + b

    def predict(self, features: Mapping[str, Any], segment: str | None = None) -> float:
        """Calibrated probability that the next renewal is lost."""
        return _sigmoid(self.log_odds(features, segment))

    def contributions(
        self, features: Mapping[str, Any], segment: str | None = None
    ) -> dict[str, float]:
        """Each source feature's push on the calibrated log-odds (columns summed back)."""
        a, _ = self._calibration(segment)
        out: dict[str, float] = {}
        for col, c, v in zip(self.columns, self.coef, self.standardized(features), strict=True):
            source = col.removeprefix(MISSING).split("=", 1)[0]
            out[source] = out.get(source, 0.0) + a * c * v
        return out

    def drivers(
        self,
        features: Mapping[str, Any],
        segment: str | None = None,
        phrases: Phrases | None = None,
    ) -> list[dict[str, Any]]:
        """What pushes this account's risk up, largest first, in plain words (`driver_words`)."""
        return self.drivers_and_near(features, segment, phrases)[0]

    def drivers_and_near(
        self,
        features: Mapping[str, Any],
        segment: str | None = None,
        phrases: Phrases | None = None,
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """The listed drivers (push >= MIN_DRIVER_LOG_ODDS), and the pushes just under them
        (>= NEAR_DRIVER_LOG_ODDS): not worth a line, but the write-back's hysteresis needs
        to know a written driver only slipped under the threshold rather than went."""
        pushes = sorted(self.contributions(features, segment).items(), key=lambda kv: -kv[1])
        tag = features.get("repeat_issue_tag")
        tag = tag if isinstance(tag, str) else None
        words = [
            (
                v,
                {
                    "driver": k,
                    "contribution": round(v, 3),
                    "text": driver_words(k, features.get(k), phrases, tag),
                },
            )
            for k, v in pushes
            if v >= NEAR_DRIVER_LOG_ODDS
        ]
        listed = [d for v, d in words if v >= MIN_DRIVER_LOG_ODDS]
        return listed, [d for v, d in words if v < MIN_DRIVER_LOG_ODDS]

    def to_params(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("version")
        return data

    @classmethod
    def from_params(cls, params: Mapping[str, Any], version: int | None = None) -> FittedRisk:
        return cls(**dict(params), version=version)


def snapshot_features(
    score: float | None,
    trend_28d: float | None,
    signals: Mapping[str, Any],
    past: lagged.Past | None = None,
) -> dict[str, Any]:
    """The model's inputs for one snapshot: its stored signals plus score, 28-day trend and
    usage against the account's own earlier snapshots (`scoring.lagged`; None: no history)."""
    out: dict[str, Any] = {k: v for k, v in signals.items() if isinstance(v, int | float | str)}
    out["health_score"] = score
    out["trend_28d"] = trend_28d
    out.update(lagged.features(signals, past))
    return out


RENEWAL_BUCKETS = (30, 60, 90, 180, 365)


Phrases = Mapping[str, tuple[Unit, str]]  # measure -> (its unit, its text: scoring/units.py)
LAGGED_LABELS = {  # the usage measures the lag features are made of (scoring/lagged.py)
    "active_users_per_seat": "seat use", "dau_mau": "DAU/MAU",
    "logins_per_user": "logins per user", "feature_breadth": "feature breadth",
}  # fmt: skip


def driver_words(
    name: str, value: Any, phrases: Phrases | None = None, tag: str | None = None
) -> str:
    """A driver in the words a CS owner or a sales rep reads ("seat use down 30% on a quarter
    ago", "health score 41 of 100"); a scorecard measure in its own text and unit (`phrases`:
    the scorecard's, by measure name; `tag`: the repeated issue's); a feature of neither is
    named with its number."""
    label = name.replace("_", " ")
    if value is None:
        return f"{label}: no data"
    if name == "days_to_renewal" and isinstance(value, int | float):
        # a bucket, not a count: the written text changes when the renewal enters a window,
        # not every day (see sync/deadband.py)
        if value < 0:
            return "renewal date passed"
        within = next((b for b in RENEWAL_BUCKETS if value <= b), None)
        return f"renewal within {within} days" if within else "renewal more than a year away"
    if not isinstance(value, int | float) or isinstance(value, bool):
        return f"{label} {value}"
    return _worded(name, float(value), phrases or {}, tag) or f"{label} {value:.3g}"


def _worded(name: str, v: float, phrases: Phrases, tag: str | None) -> str | None:
    if name == "health_score":
        return f"health score {v:.0f} of 100"
    if name == "trend_28d":
        points = round(v)
        return "health steady over 28 days" if points == 0 else (
            f"health {'up' if points > 0 else 'down'} {abs(points)} points in 28 days"
        )  # fmt: skip
    if name == lagged.FEATURE:  # seat use minus a quarter ago's: points of the seats
        points = round(v * 100)
        moved = "unchanged" if points == 0 else f"{'up' if points > 0 else 'down'} {abs(points)}"
        return f"seat use {moved} points on a quarter ago"
    for measure, label in LAGGED_LABELS.items():
        if name == lagged.rel_change_name(measure):
            return f"{label} {format_value('change', v)} on a quarter ago"
        if name == lagged.vs_high_name(measure):
            under = round(-v * 100)
            return f"{label} at its 26-week high" if under <= 0 else (
                f"{label} {under}% under its 26-week high"
            )  # fmt: skip
    if name in phrases:
        unit, template = phrases[name]
        return phrase(template, unit, v, tag)
    return None


def _number(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None if value is None else float(value)
    if isinstance(value, int | float):
        return None if math.isnan(value) else float(value)
    try:
        parsed = float(str(value).strip())
    except ValueError:
        return None
    return None if math.isnan(parsed) else parsed


def _category(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _sigmoid(z: float) -> float:
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)
