"""Benchmark: would another model class rank renewals better than the fitted logistic risk?

On tuning seeds only (1-5 by default; the held-out seeds stay unjudged), each world's training
rows (`scoring.risk_store.training_from_database`) are scored out of fold, by account, under
the folds `scoring.fit.fit_risk` uses, by:

- `fit_risk`: the production fit (cross-fitted Platt calibration included);
- `linear C=x`: the same weighted, class-balanced logistic regression at another penalty;
- `hinges`: the linear model with three hinge columns per number (max(0, x - q) at the
  training quartiles): a piecewise-linear, additive fit whose drivers would still add up;
- `boosting`: scikit-learn's HistGradientBoostingClassifier on the same columns and weights,
  interactions included (shallow trees, early rounds: a small book overfits deep ones).

Each is judged as `bench honest_score` judges the risk: ROC-AUC of the judged sample (every
account once, on the snapshot `min_lead_days` before its renewal decision). A variant's raw
out-of-fold scores are ranked as they are: no calibration moves a ranking within a fold.

Run by hand:  .venv/bin/python -m bench risk_variants [--seeds 1-5] [--keep DIR]
"""

from __future__ import annotations

import statistics
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bench.honest_score import tuning_args
from bench.world_history import build_history
from scoring import fit, metrics
from scoring.backtest import samples_from_database
from scoring.config import load_scorecard
from scoring.risk_store import FEATURES, training_from_database

Scorer = Callable[[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray], np.ndarray]
QUARTILES = (0.25, 0.5, 0.75)


def linear(c: float) -> Scorer:
    def score(x: np.ndarray, y: np.ndarray, w: np.ndarray, train: np.ndarray, test: np.ndarray):
        saved, fit.C = fit.C, c
        try:
            means, scales, clf = fit._fit_linear(x[train], y[train], w[train])
        finally:
            fit.C = saved
        return clf.decision_function((x[test] - means) / scales)

    return score


def hinges(numeric: int, c: float) -> Scorer:
    """The linear scorer on the columns plus hinges at the training rows' quartiles."""
    base = linear(c)

    def score(x: np.ndarray, y: np.ndarray, w: np.ndarray, train: np.ndarray, test: np.ndarray):
        extra = []
        for j in range(numeric):
            for knot in np.unique(np.quantile(x[train, j], QUARTILES)):
                column = np.maximum(0.0, x[:, j] - knot)
                if column[train].std() > 0:
                    extra.append(column[:, None])
        return base(np.hstack([x, *extra]), y, w, train, test)

    return score


def boosting(x: np.ndarray, y: np.ndarray, w: np.ndarray, train: np.ndarray, test: np.ndarray):
    from sklearn.ensemble import HistGradientBoostingClassifier

    wt, lost = w[train], y[train] == 1
    balance = np.where(lost, 0.5 / wt[lost].sum(), 0.5 / wt[~lost].sum())
    clf = HistGradientBoostingClassifier(
        max_iter=200, learning_rate=0.05, max_leaf_nodes=8, min_samples_leaf=40,
        l2_regularization=1.0, random_state=0,
    )  # fmt: skip
    clf.fit(x[train], y[train], sample_weight=wt * balance * len(train))
    return clf.decision_function(x[test])


def out_of_fold(ts: fit.TrainingSet, scorer: Scorer) -> list[float]:
    from sklearn.model_selection import GroupKFold

    design = fit.design(ts, FEATURES, [])
    x, y = fit._matrix(design, ts.features), np.array(ts.labels)
    groups = np.array(ts.groups)
    w = fit.account_weights(groups, np.array(ts.emphasis, dtype=float))
    raw = np.zeros(len(y))
    for train, test in GroupKFold(n_splits=min(5, len(set(ts.groups)))).split(x, y, groups):
        raw[test] = scorer(x, y, w, train, test)
    return raw.tolist()


def judged_auc(session: Any, keys: Sequence[Any], scores: Sequence[float]) -> float:
    card = load_scorecard()
    samples, _ = samples_from_database(session, card.risk.horizon_days, card.risk.min_lead_days)
    by_key = dict(zip(keys, scores, strict=True))
    pairs = [
        (by_key[(s.account_id, s.as_of)], int(s.churned))
        for s in samples
        if s.score is not None and (s.account_id, s.as_of) in by_key
    ]
    auc = metrics.roc_auc([p for p, _ in pairs], [y for _, y in pairs])
    return float("nan") if auc is None else auc


def seed_aucs(seed: int, accounts: int, directory: Path) -> dict[str, float]:
    factory = build_history(accounts, seed, directory, reuse=True)
    out: dict[str, float] = {}
    with factory() as session:
        ts = training_from_database(session, load_scorecard().risk.horizon_days)
        fitted = fit.fit_risk(ts, FEATURES, horizon_days=load_scorecard().risk.horizon_days)
        out["fit_risk"] = judged_auc(session, ts.keys, fitted.oof)
        variants: dict[str, Scorer] = {
            f"linear C={fit.C}": linear(fit.C),
            "linear C=0.01": linear(0.01),
            "linear C=0.05": linear(0.05),
            f"hinges C={fit.C}": hinges(len(FEATURES), fit.C),
            "boosting": boosting,
        }
        for name, scorer in variants.items():
            out[name] = judged_auc(session, ts.keys, out_of_fold(ts, scorer))
    return out


def main(argv: list[str]) -> None:
    args, seeds = tuning_args("risk_variants", argv)
    with tempfile.TemporaryDirectory(prefix="pulsehub-variants-") as tmp:
        directory = args.keep or Path(tmp)
        directory.mkdir(parents=True, exist_ok=True)
        rows = []
        for seed in seeds:
            rows.append(seed_aucs(seed, args.accounts, directory))
            print(f"seed {seed}: " + ", ".join(f"{k} {v:.4f}" for k, v in rows[-1].items()))
    print(f"judged ROC-AUC over seeds {args.seeds} ({args.accounts} accounts), mean (min-max):")
    for name in rows[0]:
        values = [r[name] for r in rows]
        print(f"  {name:<16} {statistics.mean(values):.4f} ({min(values):.3f}-{max(values):.3f})")
