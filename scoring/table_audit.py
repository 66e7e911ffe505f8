"""Audit and fit on any churn table (see `scoring.table`): discrimination, calibration, lead time.

What is audited: the table's own score column if mapped, else pulsehub's health score from
the mapped signals; and, whenever features are mapped, the fitted renewal-risk model under
5-fold cross-validation by account, beside a plain logistic-regression baseline run on the
same folds. Zero rows scored is an error that says why.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from scoring import metrics
from scoring.config import Scorecard
from scoring.fit import NotEnoughHistory, TrainingSet, baseline_auc, fit_risk
from scoring.health import score_health
from scoring.signals import AccountSignals
from scoring.table import Table, TableError, TableMap

LEADS = (30, 60, 90)


def discrimination(risk: Sequence[float], labels: Sequence[int], rounds: int) -> dict[str, Any]:
    """AUC with a bootstrap 95% interval, PR-AUC and tie-aware top-decile lift."""
    interval = metrics.bootstrap_auc(risk, labels, rounds=rounds) if rounds else None
    return {
        "roc_auc": _r(metrics.roc_auc(risk, labels)),
        "roc_auc_95ci": None if interval is None else [_r(interval[0]), _r(interval[1])],
        "pr_auc": _r(metrics.average_precision(risk, labels)),
        "top_decile_lift": _r(metrics.lift_at(risk, labels, 0.1)),
    }


def calibration(
    probs: Sequence[float], labels: Sequence[int], segments: Sequence[str | None]
) -> dict[str, Any]:
    """Brier against predicting the base rate, calibration line, reliability, per segment."""
    base = sum(labels) / len(labels)
    line = metrics.calibration_line(probs, labels)
    out: dict[str, Any] = {
        "brier": _r(metrics.brier(probs, labels)),
        "base_rate_brier": _r(base * (1 - base)),
        "calibration_slope": None if line is None else _r(line[0], 3),
        "calibration_intercept": None if line is None else _r(line[1], 3),
        "reliability": metrics.reliability(probs, labels),
    }
    per: dict[str, Any] = {}
    for seg in sorted({s for s in segments if s}):
        idx = [i for i, s in enumerate(segments) if s == seg]
        ys = [labels[i] for i in idx]
        per[seg] = {
            "n": len(idx),
            "predicted": _r(sum(probs[i] for i in idx) / len(idx)),
            "observed": _r(sum(ys) / len(ys)),
        }
    out["per_segment"] = per
    return out


def lead_shares(
    flags: Sequence[bool], labels: Sequence[int], lead_days: Sequence[float | None]
) -> dict[str, Any]:
    """Churned rows flagged with at least L days to go; false alarms among retained rows."""
    retained = [f for f, y in zip(flags, labels, strict=True) if not y]
    churned = [
        (f, d) for f, y, d in zip(flags, labels, lead_days, strict=True) if y and d is not None
    ]
    if not churned:
        return {"available": False}
    out: dict[str, Any] = {"available": True}
    for lead in LEADS:
        out[f"{lead}d"] = _r(sum(f and d >= lead for f, d in churned) / len(churned))
    out["false_alarms"] = _r(sum(retained) / len(retained)) if retained else None
    return out


def audit_table(
    table: Table, table_map: TableMap, scorecard: Scorecard, *, bootstrap_rounds: int = 500
) -> dict[str, Any]:
    """The whole audit of one table; raises TableError when no row could be scored."""
    report: dict[str, Any] = {"source": table.source, "rows": len(table.labels)}
    report["churned"] = sum(table.labels)
    report["base_rate"] = _r(sum(table.labels) / len(table.labels)) if table.labels else None
    scores, why = _scores(table, table_map, scorecard)
    scored = [i for i, s in enumerate(scores) if s is not None]
    if scored:
        ys = [table.labels[i] for i in scored]
        risk = [float(scores[i] or 0.0) for i in scored]
        report["score"] = {"scored": len(scored), **discrimination(risk, ys, bootstrap_rounds)}
    fitted = fit_table(table, table_map) if _has_features(table_map) else None
    if fitted is not None:
        report["fitted_risk"] = fitted
        probs = fitted.pop("_oof")
        report["fitted_risk"].update(discrimination(probs, table.labels, bootstrap_rounds))
        report["fitted_risk"].update(calibration(probs, table.labels, table.segments))
        high = scorecard.risk.high_at
        report["lead_time"] = lead_shares([p >= high for p in probs], table.labels, table.lead_days)
    if not scored and fitted is None:
        raise TableError(f"{table.source}: 0 of {len(table.labels)} rows scored — {why}")
    return report


def fit_table(table: Table, table_map: TableMap) -> dict[str, Any] | None:
    """Fit and 5-fold cross-validate the risk model on the table, with the baseline beside it."""
    ts = TrainingSet()
    for i, features in enumerate(table.features):
        row = dict(features)
        if table.scores[i] is not None:
            row["table_score"] = table.scores[i]
        ts.add(row, table.labels[i], table.ids[i], table.segments[i], i)
    ts.outcomes, ts.lost = len(ts.labels), sum(ts.labels)
    numeric = [*table_map.numeric, *table_map.signals]
    if table_map.score is not None:
        numeric.append("table_score")
    try:
        result = fit_risk(ts, numeric, table_map.categorical)
    except NotEnoughHistory as exc:
        raise TableError(f"{table.source}: cannot fit — {exc}") from None
    out: dict[str, Any] = {"cv": result.metrics, "_oof": result.oof}
    out["baseline_logistic_auc"] = baseline_auc(ts, numeric, table_map.categorical)
    return out


def _has_features(m: TableMap) -> bool:
    return bool(m.numeric or m.categorical or m.signals)


def _scores(table: Table, m: TableMap, scorecard: Scorecard) -> tuple[list[float | None], str]:
    """Risk-ordered scores per row (higher = riskier) and, if none, why not."""
    if m.score is not None:
        scores = table.scores
        why = f"column {m.score.column!r} holds no numbers"
        return scores, why
    if not m.signals:
        return [None] * len(table.labels), (
            "the map names no score column and no pulsehub signals, and no feature columns to "
            "fit on — add `score:`, `signals:` or `numeric:`/`categorical:` to the map"
        )
    out: list[float | None] = []
    for n, features in enumerate(table.features):
        sig = AccountSignals(account_id=table.ids[n], as_of=date.today(), segment=table.segments[n])
        for name in m.signals:
            try:
                setattr(sig, name, float(str(features.get(name) or "").strip()))
            except ValueError:
                continue
        r = score_health(sig, scorecard, [])
        out.append(None if r.score is None else 100.0 - r.score)
    why = (
        f"the mapped signals ({', '.join(m.signals)}) cover less than the scorecard's "
        f"coverage.minimum {scorecard.coverage.minimum} of its weight on every row — map more "
        "signals, or map the table's own `score:`"
    )
    return out, why


def _r(x: float | None, digits: int = 4) -> float | None:
    return None if x is None else round(x, digits)
