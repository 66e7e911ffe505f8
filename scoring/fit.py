"""Fit the renewal-risk model: penalized logistic regression, cross-validated by account, Platt-calibrated.

Target and horizon: a snapshot taken on day t is labelled by the first renewal decided in
(t, t + horizon_days]: 1 if that renewal was lost. Snapshots with no decided renewal in the
horizon are left out (their outcome is unknown), so the model answers "P(the next renewal is
lost), seen up to `horizon_days` ahead". Class balance: the logistic regression weighs the
classes equally; Platt scaling on out-of-fold scores then restores true probabilities.
Every fold holds whole accounts (GroupKFold), so no account is on both sides. Each account
weighs the same in the fit and in the calibration, however many weekly snapshots it has: a
row weighs 1 / (its account's rows), so a long-lived account cannot dominate the fit and the
model cannot memorise one account's near-identical weeks. Within an account, rows taken
about `EMPHASIS_DAYS` before their renewal decision weigh most (`lead_emphasis`): that is
where a warning is still early enough to act on (the scorecard's 30-day minimum lead plus a
week of snapshot spacing), and where the alerts and the honest-score bench judge the risk;
rows right before the decision, when a leaving account's usage is already winding down,
would otherwise teach the model their steeper slopes. Measured on the tuning seeds 1-5
(README's honest-score section): calibration slope on the judged rows 1.09 -> 1.02.

scikit-learn does the fitting (a maintained, well-tested solver, scaler and splitter; a
hand-rolled Newton solver had no regularization path or grouped CV). Scoring applies the
stored parameters in `scoring.risk_model` and never imports it.
"""

from __future__ import annotations

import logging
import math
from array import array
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from scoring.feature_rows import AccountDays, FeatureRows
from scoring.metrics import calibration_line, reliability
from scoring.risk_model import CONSTANT_REL, GLOBAL, MISSING, FittedRisk, _category, _number

if TYPE_CHECKING:  # scikit-learn loads in ~1 s: only a fit imports it, never a sync that skips one
    from sklearn.linear_model import LogisticRegression

log = logging.getLogger(__name__)

Rows = Sequence[Mapping[str, Any]]
MIN_OUTCOMES = 40  # labelled renewal decisions needed, with MIN_CLASS of each kind
MIN_CLASS = 10
SEGMENT_MIN = (200, 30)  # rows and lost-renewal rows a segment needs for its own calibration
C = 0.02  # inverse L2 strength per account (strong: a few hundred renewals to learn from)
EMPHASIS_DAYS = 35  # a row's weight within its account peaks this many days before the decision
EMPHASIS_SCALE = 30  # ... and falls by a factor e every this many days either side


class NotEnoughHistory(ValueError):
    """Too few labelled renewal outcomes to fit (the prior stays in use, flagged uncalibrated)."""


class NoSkill(NotEnoughHistory):
    """The fit ranks held-out accounts no better than chance (e.g. it memorized a small book's
    accounts): storing it would write inverted risk, so the prior stays in use instead."""


@dataclass(slots=True)
class TrainingSet:
    """Rows of raw features with labels, account groups, segments and (account, day) keys;
    the features a list of dicts or, for large sets, `FeatureRows` (numbers in blocks), with
    the accounts, keys and weights in typed arrays (`AccountDays`).
    `scores` holds each row's computed health score where the rows are snapshots (None for a
    grey snapshot, and for tables that have none): the flag fit judges it beside the model's
    probability without reading every snapshot again."""

    features: list[dict[str, Any]] | FeatureRows = field(default_factory=list)
    labels: list[int] = field(default_factory=list)
    groups: list[int] | array[int] = field(default_factory=list)
    segments: list[str | None] = field(default_factory=list)
    keys: list[tuple[int, Any]] | AccountDays = field(default_factory=list)
    # relative weight within the account
    emphasis: list[float] | array[float] = field(default_factory=list)
    outcomes: int = 0  # distinct labelled renewal decisions
    lost: int = 0
    scores: list[float | None] = field(default_factory=list)

    def add(
        self,
        features: dict[str, Any],
        label: int,
        group: int,
        segment: str | None,
        key: Any,
        emphasis: float = 1.0,
        score: float | None = None,
    ) -> None:
        self.features.append(features)
        self.labels.append(label)
        self.groups.append(group)
        self.segments.append(segment)
        self.keys.append((group, key))
        self.emphasis.append(emphasis)
        self.scores.append(score)


@dataclass(slots=True)
class FitResult:
    model: FittedRisk
    oof: list[float]  # cross-fitted calibrated probabilities, one per training row
    metrics: dict[str, Any]


def check_enough(ts: TrainingSet) -> None:
    """Raise NotEnoughHistory, saying what is missing, unless the set can be fitted."""
    won = ts.outcomes - ts.lost
    if ts.outcomes < MIN_OUTCOMES or ts.lost < MIN_CLASS or won < MIN_CLASS:
        raise NotEnoughHistory(
            f"{ts.outcomes} labelled renewal outcomes ({ts.lost} lost, {won} won); fitting needs "
            f"{MIN_OUTCOMES} with at least {MIN_CLASS} of each — the prior stays in use"
        )


def design(ts: TrainingSet, numeric: Sequence[str], categorical: Sequence[str]) -> FittedRisk:
    """The expansion (medians, indicators, category levels) learned from the training rows."""
    medians, indicators, clips = {}, [], {}
    for name in numeric:
        values = _present(ts.features, name)
        medians[name] = float(np.median(values)) if len(values) else 0.0
        if len(values):
            lo, hi = np.percentile(values, [2, 98])
            clips[name] = [float(lo), float(hi)]
        if len(values) and len(values) < len(ts.features):
            indicators.append(name)
    levels = {name: sorted(set(_categories(ts.features, name)))[:30] for name in categorical}
    columns = [*numeric, *(MISSING + n for n in indicators)]
    columns += [f"{n}={lvl}" for n, lv in levels.items() for lvl in lv]
    model = FittedRisk(list(numeric), levels, medians, indicators, columns, [], [], [], 0.0)
    model.clips = clips
    return model


def _present(rows: Rows, name: str) -> np.ndarray:
    """The numeric feature's values where present, in row order."""
    if isinstance(rows, FeatureRows) and name in rows.numeric:
        column = rows.numeric_column(name)
        return column[~np.isnan(column)]
    values = [v for v in (_number(f.get(name)) for f in rows) if v is not None]
    return np.array(values, dtype=float)


def _categories(rows: Rows, name: str) -> Sequence[str]:
    if isinstance(rows, FeatureRows) and name in rows.categorical:
        return rows.category_column(name)
    return [_category(f.get(name)) for f in rows]


def _matrix(model: FittedRisk, rows: Rows, *, release: bool = False) -> np.ndarray:
    """`model.expand` of every row, as one matrix; block by block on FeatureRows (the same
    numbers, without a Python list per row). With `release` each block of rows is dropped once
    copied, so the rows and the matrix are never both whole in memory (at 50,000 accounts
    21 and 26 MiB)."""
    if not (
        isinstance(rows, FeatureRows)
        and set(model.numeric) <= set(rows.numeric)
        and set(model.categorical) <= set(rows.categorical)
    ):
        return np.array([model.expand(r) for r in rows], dtype=float).reshape(
            len(rows), len(model.columns)
        )
    x = np.empty((len(rows), len(model.columns)))
    j = len(model.numeric) + len(model.indicators)
    for name, levels in model.categorical.items():  # before the blocks: a release clears them
        values = np.array(rows.category_column(name), dtype=object)
        for level in levels:
            x[:, j] = values == level
            j += 1
    position = {name: i for i, name in enumerate(rows.numeric)}
    indicator = {name: len(model.numeric) + k for k, name in enumerate(model.indicators)}
    for start, block in rows.blocks(release=release):
        part = x[start : start + len(block)]
        for j, name in enumerate(model.numeric):
            column = part[:, j]
            column[:] = block[:, position[name]]
            missing = np.isnan(column)
            if name in model.clips:
                np.clip(column, *model.clips[name], out=column)  # NaN stays NaN
            column[missing] = model.medians.get(name, 0.0)
            if name in indicator:
                part[:, indicator[name]] = missing
        for name in set(indicator) - set(model.numeric):
            part[:, indicator[name]] = np.isnan(block[:, position[name]])
    return x


def lead_emphasis(days_ahead: int) -> float:
    """A row's relative weight within its account by its days before the renewal decision."""
    return math.exp(-abs(days_ahead - EMPHASIS_DAYS) / EMPHASIS_SCALE)


def account_weights(groups: np.ndarray, emphasis: np.ndarray | None = None) -> np.ndarray:
    """Each account's rows sum to 1 (1 / its rows, or its rows' shares of `emphasis`), so
    every account weighs the same and the penalty `C` is per account (the independent unit),
    not per weekly row."""
    _, inverse, counts = np.unique(groups, return_inverse=True, return_counts=True)
    if emphasis is None:
        return 1.0 / counts[inverse]
    return emphasis / np.bincount(inverse, weights=emphasis)[inverse]


def usable_scales(means: np.ndarray, scales: np.ndarray) -> np.ndarray:
    """The standard deviations to divide by, with 1 for a column that is constant in the
    rows they were measured on (`risk_model.constant_column`, column by column): its
    deviation is a floating-point residue, and dividing other rows' values by it made
    out-of-fold scores of 1e15 that broke the calibration fitted on them."""
    constant = scales <= CONSTANT_REL * np.maximum(1.0, np.abs(means))
    return np.where(constant, 1.0, scales)


def _fit_linear(
    x: np.ndarray, y: np.ndarray, w: np.ndarray
) -> tuple[np.ndarray, np.ndarray, LogisticRegression]:
    """Standardize `x` in place (a caller that reads it after puts it back with
    `_unstandardize`) and fit: one matrix of the training rows, not three (a centred copy, its
    square, the standardized copy). Rows weighing 0 take no part in the means, the scales or
    the fit."""
    from sklearn.linear_model import LogisticRegression

    means = w @ x / w.sum()  # np.average(x, weights=w) without its temporary copy of x
    x -= means
    variances = np.einsum("ij,ij,i->j", x, x, w) / w.sum()
    scales = usable_scales(means, np.sqrt(variances))
    x /= scales
    # class balance by weight (each class's accounts sum to the same), account weights kept
    lost = y == 1
    bal = np.where(lost, 0.5 / max(w[lost].sum(), 1e-12), 0.5 / max(w[~lost].sum(), 1e-12))
    clf = LogisticRegression(C=C, max_iter=2000)
    clf.fit(x, y, sample_weight=w * bal * w.sum())
    return means, scales, clf


def _unstandardize(x: np.ndarray, means: np.ndarray, scales: np.ndarray) -> None:
    """Undo `_fit_linear`'s standardization of `x`, in place (to the last bit or two)."""
    x *= scales
    x += means


def _platt(scores: np.ndarray, y: np.ndarray, w: np.ndarray | None = None) -> list[float]:
    from sklearn.linear_model import LogisticRegression

    if len(set(y.tolist())) < 2:
        return [1.0, 0.0]
    cal = LogisticRegression(C=1e6, max_iter=1000).fit(scores.reshape(-1, 1), y, sample_weight=w)
    return [float(cal.coef_[0][0]), float(cal.intercept_[0])]


def fit_risk(
    ts: TrainingSet,
    numeric: Sequence[str],
    categorical: Sequence[str] = (),
    *,
    folds: int = 5,
    horizon_days: int = 180,
    release_features: bool = False,
) -> FitResult:
    """Fit on every row; out-of-fold scores (GroupKFold by account) fit the calibration.

    `release_features`: the training set's feature rows are dropped block by block as the
    matrix is made, for a caller that reads no feature after the fit (the database refit: at
    50,000 accounts its 59,456 rows are 21 MiB beside the matrix's 26)."""
    check_enough(ts)
    from sklearn.model_selection import GroupKFold

    model = design(ts, numeric, categorical)
    y, groups = np.array(ts.labels), np.array(ts.groups)
    w = account_weights(groups, np.array(ts.emphasis, dtype=float))
    k = min(folds, len(set(ts.groups)))
    # one matrix for the final fit and every fold: a fold fits the whole matrix with its
    # held-out rows weighing 0 (the same objective as its training rows alone: the loss and
    # the penalty's scale are sums of weights), so no fold copies rows out of it; the matrix
    # is standardized in place for each fit and put back after it
    x = _matrix(model, ts.features, release=release_features)
    if release_features:
        ts.features = []
    means, scales, clf = _fit_linear(x, y, w)
    model.means, model.scales = means.tolist(), scales.tolist()
    model.coef, model.intercept = clf.coef_[0].tolist(), float(clf.intercept_[0])
    raw = np.zeros(len(y))
    splits = list(GroupKFold(n_splits=k).split(np.zeros(len(y)), y, groups))
    for train, test in splits:
        _unstandardize(x, means, scales)
        fold = np.zeros_like(w)
        fold[train] = w[train]
        means, scales, clf = _fit_linear(x, y, fold)
        raw[test] = clf.decision_function(x)[test]
    del x
    oof = np.zeros(len(y))  # calibration cross-fitted too: no row calibrates its own score
    for train, test in splits:
        a, b = _platt(raw[train], y[train], w[train])
        oof[test] = 1.0 / (1.0 + np.exp(-(a * raw[test] + b)))
    model.horizon_days = horizon_days
    model.platt = {GLOBAL: _platt(raw, y, w)}
    segs = np.array([s or "" for s in ts.segments])
    for seg in sorted(set(segs.tolist()) - {""}):
        mask = segs == seg
        if mask.sum() >= SEGMENT_MIN[0] and y[mask].sum() >= SEGMENT_MIN[1]:
            model.platt[seg] = _platt(raw[mask], y[mask], w[mask])
    metrics = validation(oof, y, ts)
    if metrics["cv_auc"] <= 0.5 or model.platt[GLOBAL][0] <= 0:
        raise NoSkill(
            f"cross-validated AUC {metrics['cv_auc']} on {metrics['accounts']} held-out accounts "
            f"({ts.outcomes} renewals, {ts.lost} lost): the fit ranks accounts no better than "
            "chance out of sample — the prior stays in use until more outcomes are recorded"
        )
    return FitResult(model, oof.tolist(), metrics)


def validation(oof: np.ndarray, y: np.ndarray, ts: TrainingSet) -> dict[str, Any]:
    """Cross-validated figures: AUC, Brier against the base rate, calibration slope/intercept."""
    from sklearn.metrics import brier_score_loss, roc_auc_score

    base = float(y.mean())
    line = calibration_line(oof.tolist(), y.tolist()) or (float("nan"), float("nan"))
    return {
        "rows": len(y),
        "accounts": len(set(ts.groups)),
        "outcomes": ts.outcomes,
        "lost": ts.lost,
        "base_rate": round(base, 4),
        "cv_auc": round(float(roc_auc_score(y, oof)), 4),
        "cv_brier": round(float(brier_score_loss(y, oof)), 4),
        "base_rate_brier": round(base * (1 - base), 4),
        "calibration_slope": round(line[0], 3),
        "calibration_intercept": round(line[1], 3),
        "reliability": reliability(oof.tolist(), y.tolist()),
    }


def baseline_auc(ts: TrainingSet, numeric: Sequence[str], categorical: Sequence[str] = ()) -> float:
    """A plain logistic regression (no weights, no calibration) under the same folds, for comparison."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import GroupKFold

    model = design(ts, numeric, categorical)
    x, y = _matrix(model, ts.features), np.array(ts.labels)
    groups = np.array(ts.groups)
    oof = np.zeros(len(y))
    for train, test in GroupKFold(n_splits=min(5, len(set(ts.groups)))).split(x, y, groups):
        means = x[train].mean(axis=0)
        scales = usable_scales(means, x[train].std(axis=0))
        clf = LogisticRegression(max_iter=2000).fit((x[train] - means) / scales, y[train])
        oof[test] = clf.predict_proba((x[test] - means) / scales)[:, 1]
    return round(float(roc_auc_score(y, oof)), 4)
