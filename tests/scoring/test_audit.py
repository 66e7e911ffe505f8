"""The audit: metric values, leakage-free sample choice, bands, lead time, CSV and CLI."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from model.tables import HealthSnapshot
from scoring import metrics
from scoring.audit import audit_database, evaluate
from scoring.backtest import Sample, samples_from_database
from scoring.config import load_scorecard
from scoring.lead_time import lead_time_report
from scoring.report import render_report
from tests.scoring import factories as f

CARD = load_scorecard()
END = date(2026, 6, 1)


def test_metric_values_on_small_examples() -> None:
    assert metrics.roc_auc([0.9, 0.8, 0.3, 0.1], [1, 1, 0, 0]) == 1.0
    assert metrics.roc_auc([0.1, 0.2, 0.8, 0.9], [1, 1, 0, 0]) == 0.0
    assert metrics.roc_auc([0.5, 0.5], [1, 0]) == 0.5
    assert metrics.roc_auc([0.5, 0.5], [1, 1]) is None
    assert metrics.average_precision([0.9, 0.8, 0.7], [1, 0, 1]) == pytest.approx((1 + 2 / 3) / 2)
    assert metrics.precision_at_k([0.9, 0.8, 0.7], [1, 0, 1], 2) == 0.5
    assert metrics.lift_at([0.9] + [0.1] * 9, [1] + [0] * 8 + [1], 0.1) == pytest.approx(5.0)
    assert metrics.brier([1.0, 0.0], [1, 1]) == 0.5
    table = metrics.reliability([0.05, 0.07, 0.95], [0, 1, 1])
    assert table[0] == {"bin": "0.0-0.1", "n": 2, "predicted": 0.06, "observed": 0.5}
    assert metrics.median([3, 1, 2]) == 2 and metrics.median([]) is None
    lo, hi = metrics.bootstrap_auc([0.9, 0.7, 0.6, 0.4, 0.3, 0.2] * 5, [1, 1, 0, 1, 0, 0] * 5) or (
        0,
        0,
    )
    assert 0.5 < lo <= hi <= 1.0


def _samples() -> list[Sample]:
    out = []
    for i in range(60):
        churned = i % 3 == 0
        score = (30 if churned else 70) + (i % 5) * 5 - (10 if i % 7 == 0 else 0)
        band = "red" if score < 50 else "green" if score >= 75 else "yellow"
        out.append(
            Sample(i, churned, float(score), band, arr=1000.0, lead_days=60.0 if churned else None)
        )
    return out


def test_evaluate_reports_discrimination_bands_calibration_and_lead_time() -> None:
    report = evaluate(_samples(), CARD, bootstrap_rounds=100)
    assert report["roc_auc"] > 0.9 and report["roc_auc_95ci"][0] <= report["roc_auc"]
    assert report["top_decile_lift"] > 1
    assert report["bands_ordered"] is True
    assert report["bands"]["red"]["churned_arr"] == 1000.0 * report["bands"]["red"]["churned"]
    cal = report["calibration"]
    assert cal["selected"] in {"logistic", "isotonic"} and cal["brier"] < cal["base_rate_brier"]
    assert set(cal["learned"]) == {"brier", "roc_auc", "beats_scorecard"}
    assert (
        report["lead_time"]["detection_rate"] == 1.0
        and report["lead_time"]["median_lead_days"] == 60
    )
    text = render_report(report)
    assert "ROC-AUC" in text and "bands ordered (red > yellow > green): yes" in text


def _snap(s, acct, day: date, score: float) -> None:
    band = "red" if score < 50 else "green" if score >= 75 else "yellow"
    s.add(HealthSnapshot(account_id=acct.id, as_of=day, score=score, band=band,
                         computed_score=score, computed_band=band, renewal_risk=0.5))  # fmt: skip


def test_database_samples_judge_every_account_before_its_renewal_decision() -> None:
    s = f.make_session()
    churner = f.account(s, arr=0.0)
    lost = END - timedelta(days=200)
    f.opportunity(s, churner, lost, is_closed=True, is_won=False, amount=80_000.0)
    keeper = f.account(s, arr=50_000.0)
    renewed = END - timedelta(days=100)
    f.opportunity(s, keeper, renewed - timedelta(days=365), is_closed=True, is_won=True, amount=1.0)
    f.opportunity(s, keeper, renewed, is_closed=True, is_won=True, amount=50_000.0)
    f.opportunity(s, keeper, END + timedelta(days=265))  # open: not a decision yet
    undecided = f.account(s)  # no closed renewal: nothing to judge it on
    for w in range(60):
        day = END - timedelta(days=7 * w)
        _snap(s, keeper, day, 80.0)
        _snap(s, undecided, day, 20.0)
        if day < lost:
            _snap(s, churner, day, 30.0 if day >= lost - timedelta(days=90) else 80.0)
    s.flush()
    samples, windows = samples_from_database(s, horizon_days=180, min_lead_days=30)
    by_id = {x.account_id: x for x in samples}
    assert set(by_id) == {churner.id, keeper.id}
    c = by_id[churner.id]
    assert c.churned and c.as_of is not None
    assert lost - timedelta(days=180) <= c.as_of <= lost - timedelta(days=30)
    assert c.arr == 80_000.0  # the lost renewal's amount, not the zeroed ARR field
    assert c.lead_days is not None and 84 <= c.lead_days <= 90
    k = by_id[keeper.id]
    assert not k.churned and k.as_of is not None
    assert renewed - timedelta(days=180) <= k.as_of <= renewed - timedelta(days=30)
    assert k.arr == 50_000.0
    assert windows["horizon_days"] == 180 and windows["accounts_with_lost_renewal"] == 1
    report = audit_database(s, CARD, bootstrap_rounds=20)
    assert report["roc_auc"] == 1.0
    assert "2 labelled renewal outcomes (1 lost, 1 won)" in report["fitted_risk"]["not_fitted"]
    assert "fitted renewal risk: 2 labelled" in render_report(report)
    assert report["lead_time"]["detection_rate"] == 1.0
    leads = lead_time_report(s)  # red from 87 days before the loss; the keeper never red
    assert leads["30d"] == {"lost_renewals": 1, "detected": 1.0, "won_renewals": 1,
                            "false_alarms": 0.0}  # fmt: skip
    assert leads["60d"]["detected"] == 1.0
    assert leads["90d"] == {"lost_renewals": 1, "detected": 0.0, "won_renewals": 1,
                            "false_alarms": 0.0}, "still green 94 days ahead"  # fmt: skip
