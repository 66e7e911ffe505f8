"""The demo's summary says where the renewal risk it wrote back comes from."""

from __future__ import annotations

from model.tables import RiskModelVersion
from pulsehub.demo import _risk_model


def test_the_summary_names_the_fitted_model_or_the_uncalibrated_prior(session) -> None:
    assert _risk_model(session).startswith("prior formula, written back marked uncalibrated")
    metrics = {"outcomes": 82, "lost": 18, "cv_auc": 0.8506}
    session.add(RiskModelVersion(kind="logistic+platt", horizon_days=180, trained_on="database",
                                 samples=487, outcomes=82, params={}, metrics=metrics, active=True))  # fmt: skip
    session.flush()
    text = _risk_model(session)
    assert "on 82 renewal outcomes (18 lost), cross-validated AUC 0.85" in text
