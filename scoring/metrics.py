"""Backtest metrics: ROC-AUC (+ bootstrap), PR-AUC, tie-aware lift, precision@k, Brier, calibration line.

`risk` values are "higher = more likely to churn"; `labels` are 1 for churned, 0 for retained.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from typing import Any


def roc_auc(risk: Sequence[float], labels: Sequence[int]) -> float | None:
    """Probability a churned account out-ranks a retained one (ties count half); None if one class."""
    pos = sum(labels)
    neg = len(labels) - pos
    if pos == 0 or neg == 0:
        return None
    order = sorted(range(len(risk)), key=lambda i: risk[i])
    ranks = [0.0] * len(risk)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and risk[order[j + 1]] == risk[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2 + 1
        i = j + 1
    rank_sum = sum(r for r, y in zip(ranks, labels, strict=True) if y)
    return (rank_sum - pos * (pos + 1) / 2) / (pos * neg)


def bootstrap_auc(
    risk: Sequence[float], labels: Sequence[int], rounds: int = 500, seed: int = 7
) -> tuple[float, float] | None:
    """95% percentile interval of ROC-AUC over resamples of accounts (one sample per account)."""
    rng = random.Random(seed)
    n = len(risk)
    values: list[float] = []
    for _ in range(rounds):
        idx = [rng.randrange(n) for _ in range(n)]
        auc = roc_auc([risk[i] for i in idx], [labels[i] for i in idx])
        if auc is not None:
            values.append(auc)
    if len(values) < rounds // 2:
        return None
    values.sort()
    return values[int(0.025 * len(values))], values[min(len(values) - 1, int(0.975 * len(values)))]


def average_precision(risk: Sequence[float], labels: Sequence[int]) -> float | None:
    """PR-AUC as average precision; tied risks enter together."""
    pos = sum(labels)
    if pos == 0:
        return None
    pairs = sorted(zip(risk, labels, strict=True), key=lambda p: -p[0])
    tp = seen = 0
    ap = 0.0
    i = 0
    while i < len(pairs):
        j = i
        while j < len(pairs) and pairs[j][0] == pairs[i][0]:
            j += 1
        hits = sum(y for _, y in pairs[i:j])
        tp += hits
        seen += j - i
        ap += (hits / pos) * (tp / seen)
        i = j
    return ap


def precision_at_k(risk: Sequence[float], labels: Sequence[int], k: int) -> float | None:
    if k <= 0 or not labels:
        return None
    top = sorted(zip(risk, labels, strict=True), key=lambda p: -p[0])[:k]
    return sum(y for _, y in top) / len(top)


def lift_at(risk: Sequence[float], labels: Sequence[int], fraction: float = 0.1) -> float | None:
    """Churn rate among the riskiest `fraction` over the base rate (top-decile lift by default).

    Tie-aware: rows tied at the cut-off enter with the share of the tie that fits, so the
    result does not depend on the order of tied rows (a constant score has lift 1)."""
    base = sum(labels) / len(labels) if labels else 0.0
    if base == 0:
        return None
    k = max(1, math.ceil(fraction * len(labels)))
    pairs = sorted(zip(risk, labels, strict=True), key=lambda p: -p[0])
    cut = pairs[k - 1][0]
    above = [y for r, y in pairs if r > cut]
    tied = [y for r, y in pairs if r == cut]
    hits = sum(above) + (k - len(above)) * sum(tied) / len(tied)
    return hits / k / base


def calibration_line(probs: Sequence[float], labels: Sequence[int]) -> tuple[float, float] | None:
    """Calibration slope and intercept: logistic regression of the outcome on logit(p).
    (1, 0) is perfect; a slope below 1 means predictions are too extreme."""
    if len(set(labels)) < 2:
        return None
    from sklearn.linear_model import LogisticRegression

    logits = [
        [math.log(min(max(p, 1e-6), 1 - 1e-6) / (1 - min(max(p, 1e-6), 1 - 1e-6)))] for p in probs
    ]
    fit = LogisticRegression(C=1e6, max_iter=1000).fit(logits, list(labels))
    return float(fit.coef_[0][0]), float(fit.intercept_[0])


def brier(probs: Sequence[float], labels: Sequence[int]) -> float | None:
    if not probs:
        return None
    return sum((p - y) ** 2 for p, y in zip(probs, labels, strict=True)) / len(probs)


def reliability(
    probs: Sequence[float], labels: Sequence[int], bins: int = 10
) -> list[dict[str, Any]]:
    """Predicted vs observed churn per probability bin (empty bins left out)."""
    out = []
    for b in range(bins):
        lo, hi = b / bins, (b + 1) / bins
        idx = [i for i, p in enumerate(probs) if lo <= p < hi or (b == bins - 1 and p == 1.0)]
        if idx:
            out.append({
                "bin": f"{lo:.1f}-{hi:.1f}", "n": len(idx),
                "predicted": round(sum(probs[i] for i in idx) / len(idx), 4),
                "observed": round(sum(labels[i] for i in idx) / len(idx), 4),
            })  # fmt: skip
    return out


def median(values: Sequence[float]) -> float | None:
    if not values:
        return None
    s = sorted(values)
    mid = len(s) // 2
    return float(s[mid]) if len(s) % 2 else (s[mid - 1] + s[mid]) / 2
