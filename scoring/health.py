"""The health score: pure over signals, a scorecard and past scores (no I/O).

score = 100 x the weighted mean of normalized measures (weights from the lifecycle profile);
each measure's "points lost" is its share of 100 - score, so reasons add up to the gap.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from scoring import explain
from scoring.config import Condition, Measure, Percentile, Scorecard
from scoring.normalize import normalize, threshold
from scoring.signals import AccountSignals

INSUFFICIENT = "insufficient_data"
# reasons just past `max_reasons` are kept apart in the snapshot's signals (not shown): a
# written reason that slipped a few ranks still applies, so the crm text is not rewritten
NEAR_REASONS = 3
NEAR_REASONS_KEY = "reasons_near"
# the band cut-offs a score was banded with, kept in the snapshot's signals (not shown): the
# write-back holds a status flip while the score sits within its dead-band of the cut-off
BAND_CUTOFFS_KEY = "band_cutoffs"


@dataclass(frozen=True, slots=True)
class PastScore:
    as_of: date
    score: float | None


@dataclass(frozen=True, slots=True)
class Reason:
    measure: str
    points_lost: float
    value: float | None
    threshold: float | None
    text: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "measure": self.measure, "points_lost": self.points_lost, "value": self.value,
            "threshold": self.threshold, "text": self.text,
        }  # fmt: skip


@dataclass(slots=True)
class HealthResult:
    score: float | None
    band: str
    profile: str
    coverage: float
    trend_28d: float | None = None
    trend_slope: float | None = None  # points per week over the trend window
    sharp_drop: bool = False
    reasons: list[Reason] = field(default_factory=list)
    contradictions: list[dict[str, Any]] = field(default_factory=list)
    signals: dict[str, Any] = field(default_factory=dict)
    measure_scores: dict[str, float] = field(default_factory=dict)


@dataclass(slots=True)
class _Scored:
    name: str
    weight: float  # effective weight: group weight x the measure's share of its group
    norm: float | None  # None: excluded
    covered: bool
    value: float | None
    note: str | None = None


def select_profile(signals: AccountSignals, scorecard: Scorecard) -> str:
    """The crm's lifecycle stage if a profile claims it, else the first matching rule, else default."""
    stage = (signals.lifecycle_stage or "").strip().lower()
    for name, p in scorecard.profiles.items():
        if stage and stage in (s.lower() for s in p.lifecycle_stages):
            return name
    for name, p in scorecard.profiles.items():
        rule = p.when
        if rule is None:
            continue
        if _at_most(signals.days_since_customer, rule.max_days_since_customer) or _at_most(
            signals.days_to_renewal, rule.max_days_to_renewal
        ):
            return name
    return scorecard.default_profile


def _at_most(value: float | None, limit: float | None) -> bool:
    return value is not None and limit is not None and value <= limit


def band_for(score: float | None, scorecard: Scorecard) -> str:
    return band_between(score, scorecard.bands.red_below, scorecard.bands.green_at)


def band_between(score: float | None, red_below: float, green_at: float) -> str:
    """The band of a score under these cut-offs."""
    if score is None:
        return INSUFFICIENT
    if score < red_below:
        return "red"
    return "green" if score >= green_at else "yellow"


def score_health(
    signals: AccountSignals, scorecard: Scorecard, history: Sequence[PastScore]
) -> HealthResult:
    """Score, band, trend, reasons and contradictions for one account."""
    profile = select_profile(signals, scorecard)
    scored = _score_measures(signals, scorecard, profile)
    total = sum(s.weight for s in scored)
    included = [s for s in scored if s.norm is not None]
    used = sum(s.weight for s in included)
    coverage = sum(s.weight for s in scored if s.covered) / total if total else 0.0
    score = 100.0 * sum(s.weight * (s.norm or 0.0) for s in included) / used if used else None
    capped = _cap(scorecard, included, score)
    extra: dict[str, float] = {}
    if capped is not None and score is not None:  # scaled into 0..max_score, keeping the order
        scaled = score * capped[1] / 100.0
        score, extra = scaled, {capped[0]: score - scaled}
    ranked = _reasons(signals, scorecard, included, used, extra, NEAR_REASONS)
    reasons, near = ranked[: scorecard.max_reasons], ranked[scorecard.max_reasons :]
    if coverage < scorecard.coverage.minimum:
        score = None
        text = explain.coverage_text(coverage, scorecard.coverage.minimum)
        reasons.insert(
            0, Reason("coverage", 0.0, round(coverage, 3), scorecard.coverage.minimum, text)
        )
    score = None if score is None else round(score, 2)  # banded as shown: 60.5996 is 60.6
    result = HealthResult(
        score=score,
        band=band_for(score, scorecard),
        profile=profile,
        coverage=round(coverage, 4),
        reasons=reasons,
        signals=signals.as_dict(),
        measure_scores={s.name: round(s.norm, 4) for s in included if s.norm is not None},
    )
    if near:  # for the write-back's comparison only (sync/deadband.py), never shown
        result.signals[NEAR_REASONS_KEY] = [r.text for r in near]
    bands = scorecard.bands  # for the write-back's status hysteresis only, never shown
    result.signals[BAND_CUTOFFS_KEY] = {"red_below": bands.red_below, "green_at": bands.green_at}
    result.contradictions = _contradictions(scorecard, scored)
    apply_trend(result, signals.as_of, scorecard, history)
    return result


_PLANS: dict[tuple[int, str], tuple[Scorecard, list[tuple[str, Measure, float]]]] = {}


def _plan(scorecard: Scorecard, profile: str) -> list[tuple[str, Measure, float]]:
    """(measure, config, effective weight) for a profile; cached per scorecard object."""
    key = (id(scorecard), profile)
    hit = _PLANS.get(key)
    if hit is not None and hit[0] is scorecard:
        return hit[1]
    weights = scorecard.profiles[profile].weights
    group_totals: dict[str, float] = {}
    for m in scorecard.measures.values():
        group_totals[m.group] = group_totals.get(m.group, 0.0) + m.weight
    plan = []
    for name, m in scorecard.measures.items():
        w = weights.get(m.group, 0.0) * m.weight / group_totals[m.group]
        if w > 0:
            plan.append((name, m, w))
    if len(_PLANS) > 64:
        _PLANS.clear()
    _PLANS[key] = (scorecard, plan)
    return plan


def _score_measures(signals: AccountSignals, scorecard: Scorecard, profile: str) -> list[_Scored]:
    return [_score_one(name, m, w, signals) for name, m, w in _plan(scorecard, profile)]


def _score_one(name: str, m: Measure, weight: float, signals: AccountSignals) -> _Scored:
    value = signals.value(name)
    pct = signals.percentiles.get(name)
    if value is None or (isinstance(m.normalization, Percentile) and pct is None):
        policy = {"exclude": None, "poor": 0.0, "neutral": 0.5}[m.missing]
        return _Scored(name, weight, policy, False, None, explain.missing_text(name))
    age = signals.ages.get(m.age_key) if m.age_key else None
    if m.stale_after_days is not None and age is not None and age > m.stale_after_days:
        note = explain.stale_text(name, m.age_key, age)
        if m.on_stale == "exclude":
            return _Scored(name, weight, None, False, value, note)
        if m.on_stale == "poor":
            return _Scored(name, weight, 0.0, False, value, note)
    return _Scored(name, weight, normalize(m, value, pct), True, value)


def _cap(
    scorecard: Scorecard, included: list[_Scored], score: float | None
) -> tuple[str, float] | None:
    """The tightest cap a critical measure puts on the score (fresh data only), if any."""
    best: tuple[str, float] | None = None
    for s in included:
        cap = scorecard.measures[s.name].cap
        if cap is None or not s.covered or (s.norm or 0.0) >= cap.below:
            continue
        if best is None or cap.max_score < best[1]:
            best = (s.name, cap.max_score)
    return best if score is not None else None


def _reasons(
    signals: AccountSignals,
    scorecard: Scorecard,
    included: list[_Scored],
    used: float,
    extra: dict[str, float],
    more: int = 0,
) -> list[Reason]:
    """Most points lost first; ties in measure order; a binding cap adds its points to its
    measure, so the points lost always add up to 100 - score. `more`: that many past
    `max_reasons` too (the caller keeps them apart)."""
    losses = [
        (100.0 * s.weight * (1.0 - (s.norm or 0.0)) / used + extra.get(s.name, 0.0), s)
        for s in included
    ]
    losses = [(lost, s) for lost, s in losses if lost >= 0.05]
    losses.sort(key=lambda pair: -pair[0])  # stable: ties keep measure order
    out: list[Reason] = []
    for lost, s in losses[: scorecard.max_reasons + more]:
        m = scorecard.measures[s.name]
        if s.note is not None:
            text = s.note
        else:
            text = explain.measure_text(s.name, m, s.value or 0.0, signals)
        if s.name in extra and m.cap is not None:
            text += f"; caps the score at {m.cap.max_score:.0f}"
        out.append(Reason(s.name, round(lost, 2), s.value, threshold(m), text))
    return out


def _contradictions(scorecard: Scorecard, scored: list[_Scored]) -> list[dict[str, Any]]:
    """Conditions on a measure's normalized value or a group's weighted mean (fresh data only)."""
    if not scorecard.contradictions:
        return []
    measures: dict[str, float] = {}
    groups: dict[str, list[float]] = {}
    for s in scored:
        if s.norm is not None and s.covered:
            measures[s.name] = s.norm
            acc = groups.setdefault(scorecard.measures[s.name].group, [0.0, 0.0])
            acc[0] += s.weight * s.norm
            acc[1] += s.weight

    def level(cond: Condition) -> float | None:
        if cond.measure is not None:
            return measures.get(cond.measure)
        acc = groups.get(cond.group or "")
        return acc[0] / acc[1] if acc and acc[1] else None

    out = []
    for c in scorecard.contradictions:
        hi, lo = level(c.high), level(c.low)
        if hi is None or lo is None:
            continue
        if (c.high.at_least is None or hi >= c.high.at_least) and (
            c.low.at_most is None or lo <= c.low.at_most
        ):
            out.append({"name": c.name, "text": c.text, "high": round(hi, 3), "low": round(lo, 3)})
    return out


def score_back(past: Sequence[PastScore], as_of: date, window: int, tolerance: int) -> float | None:
    """The score `window` days before `as_of`: that day's snapshot; else interpolated linearly
    between the nearest snapshots either side when both are within `tolerance` days of it;
    else the nearest one within `tolerance` (the earlier on a tie); else None.

    Interpolating keeps the reference moving one day at a time where the history is weekly
    (a backfill, or thinned old history) and the runs daily: the nearest weekly snapshot
    would switch once a week and jump every account's trend by that week's change."""
    target = as_of - timedelta(days=window)
    near = [p for p in past if p.score is not None and abs((p.as_of - target).days) <= tolerance]
    if not near:
        return None
    before = [p for p in near if p.as_of <= target]
    after = [p for p in near if p.as_of > target]
    if before and after:
        lo, hi = max(before, key=lambda p: p.as_of), min(after, key=lambda p: p.as_of)
        if lo.as_of == target:
            return lo.score
        share = (target - lo.as_of).days / (hi.as_of - lo.as_of).days
        return (lo.score or 0.0) + share * ((hi.score or 0.0) - (lo.score or 0.0))
    nearest = min(near, key=lambda p: (abs((p.as_of - target).days), p.as_of))
    return nearest.score


def apply_trend(
    result: HealthResult, as_of: date, scorecard: Scorecard, history: Sequence[PastScore]
) -> None:
    """28-day change against the score 28 days back (`score_back`), slope, and the sharp-drop
    flag."""
    result.trend_28d, result.trend_slope, result.sharp_drop = None, None, False
    if result.score is None:
        return
    window, tol = scorecard.trend.window_days, scorecard.trend.tolerance_days
    past = [
        p for p in history if p.score is not None and 0 < (as_of - p.as_of).days <= window + tol
    ]
    if not past:
        return
    reference = score_back(past, as_of, window, tol)
    if reference is not None:
        result.trend_28d = round(result.score - reference, 2)
    peak = max(p.score or 0.0 for p in past)  # the best score of the trend window
    result.sharp_drop = peak - result.score >= scorecard.trend.sharp_drop_points
    xs = [-(as_of - p.as_of).days for p in past] + [0]  # least-squares slope, points a week
    ys = [p.score or 0.0 for p in past] + [result.score]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    var = sum((x - mx) ** 2 for x in xs)
    result.trend_slope = round(
        7 * sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / var, 3
    )
