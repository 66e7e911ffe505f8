"""Renewal risk before a model is fitted: the scorecard's prior formula (or a saved JSON model).

The default is the fitted, calibrated model in the database (`scoring.risk_store`, `pulsehub
score fit`, refitted by the nightly reconcile). Until one exists, this module's small logistic
model over the health gap, the 28-day decline, renewal proximity and contraction applies: the
scorecard's `risk.prior` coefficients, or a model saved with `pulsehub score audit
--save-model FILE` and named by `risk.model_file`. The prior's risk is written back flagged
uncalibrated.
"""

from __future__ import annotations

import bisect
import json
import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from scoring.config import Scorecard
from scoring.risk_model import driver_words

log = logging.getLogger(__name__)

FEATURES = ("health_gap", "decline", "renewal_near", "contraction")
MIN_DRIVER_LOG_ODDS = 0.25  # smaller pushes are not worth a line in the crm


def risk_features(
    score: float | None, trend_28d: float | None, signals: Mapping[str, Any]
) -> dict[str, float] | None:
    """Model inputs from a score, its trend and the stored signals; None without a score.

    Besides FEATURES, each scored measure's gap (1 - its normalized value) as `gap_<measure>`,
    for the learned model; the calibrated scorecard models ignore them.
    """
    if score is None:
        return None
    days = signals.get("days_to_renewal")
    arr_change = signals.get("arr_change_pct") or 0.0
    expansion = signals.get("expansion_pct") or 0.0
    x = {
        "health_gap": (100.0 - score) / 100.0,
        "decline": max(0.0, -(trend_28d or 0.0)) / 100.0,
        "renewal_near": 0.0 if days is None else max(0.0, 1.0 - days / 365.0),
        "contraction": max(0.0, -arr_change) + max(0.0, -expansion),
    }
    for name, norm in (signals.get("measure_scores") or {}).items():
        x[f"gap_{name}"] = 1.0 - norm
    return x


@dataclass(slots=True)
class RenewalModel:
    """A fitted (or prior) risk model; `predict` maps features to a probability."""

    kind: Literal["logistic", "isotonic"] = "logistic"
    intercept: float = 0.0
    coefficients: dict[str, float] = field(default_factory=dict)
    knots_x: list[float] = field(default_factory=list)  # isotonic: health gap, ascending
    knots_y: list[float] = field(default_factory=list)
    source: str = "prior"

    def predict(self, x: Mapping[str, float]) -> float:
        if self.kind == "isotonic":
            return _interpolate(self.knots_x, self.knots_y, x["health_gap"])
        z = self.intercept + sum(c * x.get(k, 0.0) for k, c in self.coefficients.items())
        return _sigmoid(z)

    def drivers(self, x: Mapping[str, float]) -> dict[str, float]:
        """Each feature's push on the log-odds (isotonic: the whole risk is the health gap)."""
        if self.kind == "isotonic":
            return {"health_gap": self.predict(x)}
        return {k: c * x.get(k, 0.0) for k, c in self.coefficients.items()}

    def to_json(self) -> str:
        data = {k: getattr(self, k) for k in self.__slots__}
        return json.dumps(data, indent=2)

    @classmethod
    def from_json(cls, text: str) -> RenewalModel:
        return cls(**json.loads(text))


def model_for(scorecard: Scorecard) -> RenewalModel:
    """The saved model named by `risk.model_file` if it exists, else the scorecard's prior."""
    path = scorecard.risk.model_file
    if path is not None and Path(path).exists():
        return RenewalModel.from_json(Path(path).read_text())
    if path is not None:
        log.warning("renewal model file %s not found; using the scorecard prior", path)
    prior = scorecard.risk.prior
    return RenewalModel(intercept=prior.intercept, coefficients=dict(prior.coefficients))


def risk_level(p: float, scorecard: Scorecard) -> str:
    if p >= scorecard.risk.high_at:
        return "high"
    return "medium" if p >= scorecard.risk.medium_at else "low"


def describe_drivers(
    model: RenewalModel, x: Mapping[str, float], signals: Mapping[str, Any], score: float
) -> list[dict[str, Any]]:
    """What pushes the risk up, largest first, in plain words."""
    words = {
        "health_gap": driver_words("health_score", score),  # a fitted model's words too
        "decline": f"health down {x['decline'] * 100:.0f} points in 28 days",
        "renewal_near": renewal_words(signals.get("days_to_renewal")),
        "contraction": f"ARR contraction of {x['contraction'] * 100:.0f}%",
    }
    pushes = sorted(model.drivers(x).items(), key=lambda kv: -kv[1])
    return [
        {"driver": k, "contribution": round(v, 3), "text": words.get(k, _gap_words(k))}
        for k, v in pushes
        if v >= MIN_DRIVER_LOG_ODDS and x.get(k, 0.0) > 0
    ]


def renewal_words(days: Any) -> str:
    """The renewal's nearness in a bucket ("renewal within 60 days"), never a daily count."""
    return driver_words("days_to_renewal", days)


def _gap_words(key: str) -> str:
    return f"weak {key.removeprefix('gap_').replace('_', ' ')}"


def fit_learned(xs: Sequence[Mapping[str, float]], ys: Sequence[int]) -> RenewalModel:
    """The learned alternative: logistic regression over FEATURES and every measure's gap
    (a missing measure counts as 0 gap), lightly regularized; used only if it beats
    the calibrated scorecard in the audit."""
    names = sorted({k for x in xs for k in x} | set(FEATURES))
    model = fit_logistic(xs, ys, l2=0.005, features=names)
    model.source = "learned"
    return model


def fit_logistic(
    xs: Sequence[Mapping[str, float]],
    ys: Sequence[int],
    l2: float = 0.01,
    iters: int = 50,
    features: Sequence[str] = FEATURES,
) -> RenewalModel:
    """Maximum-likelihood logistic regression (Newton-Raphson, L2 on the slopes)."""
    rows = [[1.0, *(x.get(k, 0.0) for k in features)] for x in xs]
    d = len(features) + 1
    beta = [0.0] * d
    for _ in range(iters):
        grad = [0.0] * d
        hess = [[0.0] * d for _ in range(d)]
        for r, y in zip(rows, ys, strict=True):
            p = _sigmoid(sum(b * v for b, v in zip(beta, r, strict=True)))
            w = p * (1 - p)
            for i in range(d):
                grad[i] += (y - p) * r[i]
                for j in range(i, d):
                    hess[i][j] += w * r[i] * r[j]
        for i in range(d):
            for j in range(i):
                hess[i][j] = hess[j][i]
            if i:
                grad[i] -= l2 * len(rows) * beta[i]
                hess[i][i] += l2 * len(rows)
            hess[i][i] += 1e-9
        step = _solve(hess, grad)
        beta = [b + s for b, s in zip(beta, step, strict=True)]
        if max(abs(s) for s in step) < 1e-6:
            break
    coefficients = {k: round(b, 5) for k, b in zip(features, beta[1:], strict=True)}
    return RenewalModel("logistic", round(beta[0], 5), coefficients, source="fitted")


def fit_isotonic(xs: Sequence[Mapping[str, float]], ys: Sequence[int]) -> RenewalModel:
    """Pool-adjacent-violators: risk non-decreasing in the health gap."""
    pairs = sorted((x["health_gap"], float(y)) for x, y in zip(xs, ys, strict=True))
    blocks: list[list[float]] = []  # [sum_y, count, max_x]
    for gx, y in pairs:
        blocks.append([y, 1.0, gx])
        while len(blocks) > 1 and blocks[-2][0] / blocks[-2][1] >= blocks[-1][0] / blocks[-1][1]:
            y2, n2, x2 = blocks.pop()
            blocks[-1][0] += y2
            blocks[-1][1] += n2
            blocks[-1][2] = x2
    kx = [b[2] for b in blocks]
    ky = [round(b[0] / b[1], 5) for b in blocks]
    return RenewalModel("isotonic", knots_x=kx, knots_y=ky, source="fitted")


def _interpolate(kx: list[float], ky: list[float], x: float) -> float:
    if not kx:
        return 0.5
    i = bisect.bisect_left(kx, x)
    if i == 0:
        return ky[0]
    if i >= len(kx):
        return ky[-1]
    t = (x - kx[i - 1]) / (kx[i] - kx[i - 1]) if kx[i] > kx[i - 1] else 1.0
    return ky[i - 1] + t * (ky[i] - ky[i - 1])


def _sigmoid(z: float) -> float:
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


def _solve(a: list[list[float]], b: list[float]) -> list[float]:
    """Gaussian elimination with partial pivoting (tiny dense systems only)."""
    n = len(b)
    m = [[*row, b[i]] for i, row in enumerate(a)]
    for c in range(n):
        p = max(range(c, n), key=lambda r: abs(m[r][c]))
        m[c], m[p] = m[p], m[c]
        for r in range(c + 1, n):
            f = m[r][c] / m[c][c]
            for k in range(c, n + 1):
                m[r][k] -= f * m[c][k]
    out = [0.0] * n
    for r in range(n - 1, -1, -1):
        out[r] = (m[r][n] - sum(m[r][k] * out[k] for k in range(r + 1, n))) / m[r][r]
    return out
