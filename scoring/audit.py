"""The accuracy audit: does the health score rank and band the accounts that actually churned?

Discrimination (ROC-AUC with a bootstrap interval, PR-AUC, top-decile lift, precision@k),
bands (churn rate and churned ARR per band; red > yellow > green must hold), calibration of
renewal risk (cross-fitted by account, Brier and a reliability table), and lead time (how
long churned accounts had been red before they churned; detection and false-alarm rates).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from model.tables import RiskModelVersion
from scoring import metrics
from scoring.backtest import Sample, samples_from_database
from scoring.config import Scorecard
from scoring.fit import NotEnoughHistory
from scoring.renewal import RenewalModel, fit_isotonic, fit_learned, fit_logistic, risk_features
from scoring.risk_store import fit_from_database as fit_risk_from_history

BANDS = ("red", "yellow", "green", "insufficient_data")


def audit_database(
    session: Session, scorecard: Scorecard, *, bootstrap_rounds: int = 500
) -> dict[str, Any]:
    risk = scorecard.risk
    samples, windows = samples_from_database(session, risk.horizon_days, risk.min_lead_days)
    report = evaluate(samples, scorecard, bootstrap_rounds=bootstrap_rounds)
    report["source"] = "database"
    report["windows"] = windows
    report["signal_aucs"] = signal_aucs([s for s in samples if s.score is not None])
    try:  # what `pulsehub score fit` would store, cross-validated by account
        report["fitted_risk"] = fit_risk_from_history(session, risk.horizon_days).metrics
    except NotEnoughHistory as exc:
        report["fitted_risk"] = {"not_fitted": str(exc)}
    return report


def evaluate(
    samples: Sequence[Sample], scorecard: Scorecard, *, bootstrap_rounds: int = 500
) -> dict[str, Any]:
    scored = [s for s in samples if s.score is not None]
    labels = [int(s.churned) for s in scored]
    risk = [100.0 - (s.score or 0.0) for s in scored]
    n_churned = sum(labels)
    interval = metrics.bootstrap_auc(risk, labels, rounds=bootstrap_rounds) if scored else None
    report: dict[str, Any] = {
        "samples": len(samples),
        "scored": len(scored),
        "churned": n_churned,
        "base_rate": _r(n_churned / len(scored)) if scored else None,
        "roc_auc": _r(metrics.roc_auc(risk, labels)),
        "roc_auc_95ci": None if interval is None else [_r(interval[0]), _r(interval[1])],
        "pr_auc": _r(metrics.average_precision(risk, labels)),
        "top_decile_lift": _r(metrics.lift_at(risk, labels, 0.1)),
        "precision_at_k": {
            str(k): _r(metrics.precision_at_k(risk, labels, k))
            for k in sorted({10, n_churned})
            if k
        },
        "bands": _bands(samples),
    }
    rates = {b: report["bands"][b]["churn_rate"] for b in ("red", "yellow", "green")}
    known = [rates[b] for b in ("red", "yellow", "green")]
    report["bands_ordered"] = None if None in known else known[0] > known[1] > known[2]
    report["calibration"] = _calibration(scored, labels, report["roc_auc"])
    report["lead_time"] = _lead_time(samples, scorecard)
    return report


def latest_audit(session: Session) -> dict[str, Any] | None:
    """The newest fitted renewal-risk model's cross-validated audit (the dashboard's audit page)."""
    row = session.scalars(
        select(RiskModelVersion).order_by(RiskModelVersion.id.desc()).limit(1)
    ).first()
    if row is None:
        return None
    out: dict[str, Any] = {
        "renewal-risk model": f"v{row.id} ({row.kind}), trained on {row.trained_on} "
        f"at {row.created_at:%Y-%m-%d %H:%M} UTC" + ("" if row.active else " — inactive"),
        "target": f"P(next renewal lost) within {row.horizon_days} days",
    }
    out.update(row.metrics)
    return out


def signal_aucs(judged: Sequence[Sample], min_rows: int = 20) -> dict[str, float]:
    """Each numeric signal's ROC-AUC alone, oriented either way (the better of x and -x):
    no single field should separate churners on its own."""
    names = sorted({k for s in judged for k, v in s.signals.items() if isinstance(v, int | float)})
    out = {}
    for name in names:
        pairs = [
            (float(s.signals[name]), int(s.churned))
            for s in judged
            if isinstance(s.signals.get(name), int | float)
        ]
        auc = metrics.roc_auc([v for v, _ in pairs], [y for _, y in pairs])
        if auc is not None and len(pairs) >= min_rows:
            out[name] = round(max(auc, 1.0 - auc), 4)
    return out


def _r(x: float | None, digits: int = 4) -> float | None:
    return None if x is None else round(x, digits)


def _bands(samples: Sequence[Sample]) -> dict[str, dict[str, Any]]:
    out = {}
    for band in BANDS:
        group = [s for s in samples if s.band == band]
        churned = [s for s in group if s.churned]
        arr = sum(s.arr or 0.0 for s in group)
        lost = sum(s.arr or 0.0 for s in churned)
        out[band] = {
            "accounts": len(group), "churned": len(churned),
            "churn_rate": _r(len(churned) / len(group)) if group else None,
            "arr": round(arr, 2), "churned_arr": round(lost, 2),
            "churned_arr_share": _r(lost / arr) if arr else None,
        }  # fmt: skip
    return out


def _features(s: Sample) -> dict[str, float]:
    return risk_features(s.score, s.trend_28d, s.signals) or {}


def _calibration(
    scored: Sequence[Sample], labels: Sequence[int], scorecard_auc: float | None
) -> dict[str, Any]:
    """Cross-fitted by account (two folds on account id): no account is on both sides.
    The learned model is reported beside; it "beats" the scorecard only with both a lower
    Brier and a higher ROC-AUC than the calibrated score."""
    out: dict[str, Any] = {}
    stored = [
        (s.stored_risk, y) for s, y in zip(scored, labels, strict=True) if s.stored_risk is not None
    ]
    if stored:
        out["stored_risk_brier"] = _r(metrics.brier([p for p, _ in stored], [y for _, y in stored]))
    if labels:
        base = sum(labels) / len(labels)
        out["base_rate_brier"] = _r(metrics.brier([base] * len(labels), labels))
    best: tuple[float, str, list[float]] | None = None
    for method in ("logistic", "isotonic"):
        probs = _cross_fit(scored, labels, method)
        if probs is None:
            continue
        score = metrics.brier(probs, labels) or 0.0
        out[f"{method}_brier"] = _r(score)
        if best is None or score < best[0]:
            best = (score, method, probs)
    if best is not None:
        out["selected"] = best[1]
        out["brier"] = _r(best[0])
        out["roc_auc_calibrated"] = _r(metrics.roc_auc(best[2], list(labels)))
        out["reliability"] = metrics.reliability(best[2], labels)
    learned = _cross_fit(scored, labels, "learned")
    if learned is not None and best is not None:
        brier, auc = metrics.brier(learned, labels) or 0.0, metrics.roc_auc(learned, list(labels))
        beats = brier < best[0] and auc is not None and auc > (scorecard_auc or 0.0)
        out["learned"] = {"brier": _r(brier), "roc_auc": _r(auc), "beats_scorecard": beats}
    return out


def _cross_fit(scored: Sequence[Sample], labels: Sequence[int], method: str) -> list[float] | None:
    probs = [0.0] * len(scored)
    for fold in (0, 1):
        train = [i for i, s in enumerate(scored) if s.account_id % 2 != fold]
        test = [i for i, s in enumerate(scored) if s.account_id % 2 == fold]
        ys = [labels[i] for i in train]
        if not test:
            continue
        if not ys or sum(ys) in (0, len(ys)):
            return None
        model = fit_model([scored[i] for i in train], ys, method)
        for i in test:
            probs[i] = model.predict(_features(scored[i]))
    return probs


def fit_model(samples: Sequence[Sample], labels: Sequence[int], method: str) -> RenewalModel:
    """A renewal-risk model fitted on backtest samples (to save as `risk.model_file`)."""
    xs = [_features(s) for s in samples]
    if method == "learned":
        return fit_learned(xs, labels)
    return fit_isotonic(xs, labels) if method == "isotonic" else fit_logistic(xs, labels)


def fit_from_database(session: Session, scorecard: Scorecard, method: str) -> RenewalModel:
    samples, _ = samples_from_database(
        session, scorecard.risk.horizon_days, scorecard.risk.min_lead_days
    )
    scored = [s for s in samples if s.score is not None]
    return fit_model(scored, [int(s.churned) for s in scored], method)


def _lead_time(samples: Sequence[Sample], scorecard: Scorecard) -> dict[str, Any]:
    churned = [s for s in samples if s.churned and s.lead_days is not None]
    if not churned:
        return {"available": False}
    need = scorecard.risk.min_lead_days
    leads = [s.lead_days or 0.0 for s in churned]
    detected = [d for d in leads if d >= need]
    retained = [s for s in samples if not s.churned and s.score is not None]
    alarms = [s for s in retained if s.band == "red"]
    return {
        "available": True,
        "churned_accounts": len(churned),
        "detection_rate": _r(len(detected) / len(churned)),
        "median_lead_days": metrics.median(detected),
        "median_lead_days_all_churned": metrics.median(leads),
        "false_alarm_rate": _r(len(alarms) / len(retained)) if retained else None,
        "counts_as_detected": f"red for at least {need} days up to the churn",
    }
