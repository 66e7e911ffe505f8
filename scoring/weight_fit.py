"""Measure weights fitted on judged renewals: an evidence-based weighting for a scorecard.

The health score is 100 x the weighted mean of a profile's normalized measures (0..1 each).
Hand-set weights say what a team believes matters; this fits the weights under which the
book's lost renewals score lowest, *keeping the score's form*: the same measures, the same
normalization, one non-negative weight per measure. So the fitted score is still a weighted
mean, every reason is still a measure's points lost, and a user can read, compare and accept
the weights like any other scorecard line.

The fit: logistic regression of "this renewal was lost" on the normalized measures with every
slope constrained to be >= 0 on the gap (1 - normalized value), classes weighted equally and a
ridge penalty `l2` pulling weights towards zero (a weight must earn its place); L-BFGS-B with
bounds, from scipy (a dependency of scikit-learn, already required). A missing measure is
left out of an account's score (the weighted mean of the others), which the fit mirrors by
imputing the measure's mean over the rows that have it. The slopes, divided by their sum, are
the measures' *effective* shares of the score in that profile.

Thresholds first (`fit_thresholds`): a linear measure whose poor/good range misses where the
book's values lie (every account "good" on first-reply hours, say) cannot rank anyone, so its
poor and good are moved to the 5th and 95th percentiles of the judged snapshots' values (in
the measure's direction), rounded to two significant digits; tiers are kept as they are. A
caller decides whether to accept them: they are the book's own scale, not an industry norm.

`with_fitted_weights` writes the weights into a scorecard: each measure's `weight` becomes its share
and the profile's group weights the sums of their measures' shares, so the profile scores with
exactly the fitted shares; other profiles keep their group weights and split them among a
group's measures by the same fitted weights.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from scipy.optimize import minimize

from scoring.config import Linear, Scorecard
from scoring.normalize import normalize

L2 = 1.0  # ridge strength, in units of the (class-balanced) number of rows
MIN_SHARE = 0.005  # a measure below half a percent of the score is dropped from the profile
DIGITS = 3
QUANTILES = (5.0, 95.0)  # the judged values' range a linear measure's poor..good spans
MIN_VALUES = 30  # rows with a value that a measure's thresholds are fitted from


def fit_thresholds(scorecard: Scorecard, rows: Sequence[Mapping[str, Any]]) -> Scorecard:
    """The scorecard with each linear measure's poor/good at the rows' 5th/95th percentiles
    (direction kept); a measure with too few values or no spread keeps its own. A cap, set in
    normalized units for the old range, is dropped with it (it would mean something else)."""
    measures = dict(scorecard.measures)
    for name, m in scorecard.measures.items():
        if not isinstance(m.normalization, Linear):
            continue
        values = [
            float(r[name]) for r in rows
            if isinstance(r.get(name), int | float) and not isinstance(r.get(name), bool)
        ]  # fmt: skip
        if len(values) < MIN_VALUES:
            continue
        lo, hi = (_round2(float(q)) for q in np.percentile(values, QUANTILES))
        if lo == hi:
            continue
        poor, good = (lo, hi) if m.direction == "higher_is_better" else (hi, lo)
        norm = Linear(kind="linear", poor=poor, good=good)
        measures[name] = m.model_copy(update={"normalization": norm, "cap": None})
    return scorecard.model_copy(update={"measures": measures})


def _round2(x: float) -> float:
    """Two significant digits: thresholds a person reads and can argue with."""
    return 0.0 if x == 0 else float(f"{x:.2g}")


def measure_matrix(
    scorecard: Scorecard, rows: Sequence[Mapping[str, Any]]
) -> tuple[list[str], np.ndarray]:
    """Normalized measures (NaN where missing), one row per signals dict, in scorecard order.
    Percentile measures need the book's ranks, which stored signals lack: they are left out."""
    names = [n for n, m in scorecard.measures.items() if m.normalization.kind != "percentile"]
    x = np.full((len(rows), len(names)), np.nan)
    for i, signals in enumerate(rows):
        for j, name in enumerate(names):
            value = signals.get(name)
            if isinstance(value, int | float) and not isinstance(value, bool):
                x[i, j] = normalize(scorecard.measures[name], float(value))
    return names, x


def fit_measure_weights(
    scorecard: Scorecard,
    rows: Sequence[Mapping[str, Any]],
    labels: Sequence[int],
    *,
    l2: float = L2,
) -> dict[str, float]:
    """Each measure's fitted share of the score (shares sum to 1; zero-share measures omitted).

    `rows` are the stored signals of judged snapshots (one per renewal decision), `labels` 1
    where that renewal was lost. Raises ValueError without both outcomes."""
    y = np.asarray(labels, dtype=float)
    if len(y) != len(rows) or y.min(initial=1) == y.max(initial=0):
        raise ValueError("fitting measure weights needs lost and won renewals, one label a row")
    names, x = measure_matrix(scorecard, rows)
    seen = ~np.all(np.isnan(x), axis=0)
    names, x = [n for n, s in zip(names, seen, strict=True) if s], x[:, seen]
    x = np.where(np.isnan(x), np.nanmean(x, axis=0), x)
    gap = 1.0 - x  # a larger gap (further from healthy) pushes the loss up
    balance = np.where(y == 1, 0.5 / y.sum(), 0.5 / (1 - y).sum()) * len(y)

    def loss(params: np.ndarray) -> tuple[float, np.ndarray]:
        w, b = params[:-1], params[-1]
        z = b + gap @ w
        value = float(np.sum(balance * (np.logaddexp(0.0, z) - y * z)) + l2 * np.sum(w**2))
        residual = balance * (1.0 / (1.0 + np.exp(-z)) - y)
        grad = np.concatenate([gap.T @ residual + 2 * l2 * w, [residual.sum()]])
        return value, grad

    start = np.concatenate([np.full(len(names), 0.1), [0.0]])
    bounds = [(0.0, None)] * len(names) + [(None, None)]
    fit = minimize(loss, start, jac=True, method="L-BFGS-B", bounds=bounds)
    w = np.maximum(fit.x[:-1], 0.0)
    if w.sum() <= 0:
        raise ValueError("no measure ranks lost renewals below won ones: nothing to weigh")
    shares = w / w.sum()
    kept = {n: float(s) for n, s in zip(names, shares, strict=True) if s >= MIN_SHARE}
    total = sum(kept.values())
    return {n: round(s / total, DIGITS) for n, s in kept.items()}


def with_fitted_weights(
    scorecard: Scorecard, shares: Mapping[str, float], profile: str
) -> Scorecard:
    """The scorecard with the fitted shares as measure weights and `profile`'s group weights.

    A measure without a share keeps a token weight (the schema wants weights > 0) and scores
    nothing in `profile` only if its whole group has no share; other profiles keep theirs."""
    measures = {}
    for name, m in scorecard.measures.items():
        share = shares.get(name, 0.0)
        measures[name] = m.model_copy(update={"weight": share if share > 0 else 1e-6})
    groups: dict[str, float] = dict.fromkeys(scorecard.groups, 0.0)
    for name, share in shares.items():
        group = scorecard.measures[name].group
        groups[group] = round(groups[group] + share, DIGITS)
    profiles = dict(scorecard.profiles)
    profiles[profile] = profiles[profile].model_copy(update={"weights": groups})
    return scorecard.model_copy(update={"measures": measures, "profiles": profiles})
