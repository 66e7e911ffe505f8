"""The audit page in headless Chromium: the stored fit's calibration plot and the fitted
bands' lead-time curve, drawn from what `score fit` stored (one point per reliability bin, one
per lead), and the page's words saying what the cut-offs are and how they were chosen; the
stored trust audit's weekly drift and override rates, and overrides judged on renewals."""

from __future__ import annotations

import datetime as dt
import math
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from model.db import make_engine, make_session_factory, transaction, upgrade
from model.tables import Account, HealthSnapshot, Opportunity, RiskModelVersion, ScoreOverride
from pulsehub.web.app import create_app
from pulsehub.web.audit_view import audit_charts
from scoring.band_fit import CURVE_LEADS, fit_bands
from scoring.config import BandFit
from scoring.fit import TrainingSet, fit_risk
from scoring.trust import store_trust_audit
from tests.web.conftest import VIEWER_TOKEN, web_settings
from tests.web.server import serve, sign_in

pytestmark = pytest.mark.browser


def _fitted() -> tuple[dict[str, Any], dict[str, Any]]:
    """A real fit on a synthetic history, and band cut-offs fitted on judged scores."""
    rng = random.Random(4)
    ts = TrainingSet()
    judged = []
    for aid in range(400):
        health = rng.uniform(40, 95)
        lost = rng.random() < 1 / (1 + math.exp(-(-2.0 + 0.08 * (70 - health))))
        ts.add({"health_score": health + rng.gauss(0, 5)}, int(lost), aid, None, aid)
        for lead in CURVE_LEADS:  # scores drift down as a lost renewal nears
            drop = (150 - lead) / 150 * (8 if lost else 0)
            judged.append((aid, lead, health - drop + rng.gauss(0, 4), lost))
    ts.outcomes, ts.lost = len(ts.labels), sum(ts.labels)
    result = fit_risk(ts, ["health_score"])
    bands = fit_bands(judged, BandFit())
    assert bands is not None
    return result.model.to_params() | {"bands": bands}, result.metrics | {"bands": bands}


SUNDAYS = [dt.date(2026, 5, 3) + dt.timedelta(weeks=k) for k in range(6)]
NOW = dt.datetime(2026, 6, 20, 12, tzinfo=dt.UTC)


def _history(s: Any) -> None:
    """Six weeks of 150 accounts' snapshots, usage falling across the book in the fifth week;
    two CSMs' overrides in the last week, one lowered band lost at renewal, one raised band won."""
    rng = random.Random(8)
    accounts = [Account(name=f"Account {i}", crm_source="salesforce", crm_id=f"001{i:015d}")
                for i in range(150)]  # fmt: skip
    s.add_all(accounts)
    s.flush()
    at = dt.datetime.combine(SUNDAYS[-1], dt.time(9), dt.UTC)
    lowered = ScoreOverride(account_id=accounts[0].id, band="red", reason="champion left",
                            expires_at=NOW + dt.timedelta(days=30), created_at=at - dt.timedelta(days=2))  # fmt: skip
    raised = ScoreOverride(account_id=accounts[1].id, band="green", reason="renewal signed early",
                           expires_at=NOW + dt.timedelta(days=30), created_at=at - dt.timedelta(days=1))  # fmt: skip
    s.add_all([lowered, raised])
    s.flush()
    for day in SUNDAYS:
        for i, a in enumerate(accounts):
            usage = rng.gauss(-0.5 if day >= SUNDAYS[4] else 0.0, 0.2)
            band, computed, override = "green", "green", None
            if day == SUNDAYS[-1] and i < 2:
                band, computed, override = (
                    ("red", "green", lowered) if i == 0 else ("green", "red", raised)
                )
            s.add(HealthSnapshot(account_id=a.id, as_of=day, score=70.0, band=band, computed_band=computed,
                                 computed_score=60 + rng.gauss(0, 8), override_id=None if override is None else override.id,
                                 signals={"usage_change_90d": usage, "csat": rng.random()}))  # fmt: skip
    for a, won in ((accounts[0], False), (accounts[1], True)):
        s.add(Opportunity(source="salesforce", crm_id=f"006{a.id:015d}", account_id=a.id, type="Renewal",
                          close_date=SUNDAYS[-1] + dt.timedelta(days=5), is_closed=True, is_won=won))  # fmt: skip


@pytest.fixture
def audit_site(tmp_path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    url = f"sqlite:///{tmp_path / 'audit.db'}"
    upgrade(url)
    engine = make_engine(url)
    factory = make_session_factory(engine)
    params, metrics = _fitted()
    with transaction(factory) as s:
        _history(s)
        store_trust_audit(s, now=NOW, horizon_days=180, source="reconcile")
        s.add(RiskModelVersion(
            kind="logistic+platt", horizon_days=180, trained_on="database", samples=400,
            outcomes=400, params=params, metrics=metrics, active=True,
        ))  # fmt: skip
    with serve(create_app(web_settings(url), factory)) as base:
        yield base, metrics
    engine.dispose()


def test_audit_page_draws_calibration_and_lead_time(chromium, audit_site, shots: Path) -> None:
    base, metrics = audit_site
    page = sign_in(chromium, base, VIEWER_TOKEN)
    response = page.goto(base + "/ops/audit")
    assert response is not None and response.status == 200
    bins = metrics["reliability"]
    plot = page.locator("[data-testid=calibration-plot] svg")
    assert plot.locator("circle.bin").count() == len(bins) >= 3
    first = plot.locator("circle.bin title").first.text_content() or ""
    assert first.startswith(f"predicted {bins[0]['predicted']:.1%}, observed")
    curve = page.locator("[data-testid=lead-time-curve] svg")
    assert curve.locator("circle").count() == 2 * len(CURVE_LEADS)
    assert page.text_content("[data-testid=red-below]") == str(metrics["bands"]["red_below"])
    text = page.text_content("main") or ""
    assert "cv_auc" in text and "Traceback" not in text
    assert "{'bin'" not in text, "the reliability list is drawn, not dumped as text"
    drift = page.locator("[data-testid=drift] svg")
    assert drift.locator("circle").count() == 2 * (len(SUNDAYS) - 1)  # score and top signal
    shifted = drift.locator("circle title").all_text_contents()
    moved = [t for t in shifted if t.startswith(f"{SUNDAYS[4]:%m-%d} most moved signal")]
    assert len(moved) == 1 and moved[0].endswith("(usage_change_90d)"), shifted
    assert "usage_change_90d" in (page.text_content("[data-testid=drift] table") or "")
    outcomes = page.text_content("[data-testid=override-outcomes]") or ""
    assert "lowered" in outcomes and "raised" in outcomes
    assert "CSM was right 2 time(s) and the score 0" in (
        page.text_content("[data-testid=csm-right]") or ""
    )
    assert "audited 2026-06-20 12:00 UTC by reconcile" in (
        page.text_content("[data-testid=trust-made]") or ""
    )
    page.screenshot(path=str(shots / "audit.png"), full_page=True)


def test_a_model_without_fitted_bands_says_the_scorecard_cut_offs_stay() -> None:
    charts, rest = audit_charts({"cv_auc": 0.8, "reliability": [], "bands": None})
    assert "lead" not in charts and rest == {"cv_auc": 0.8}
    assert audit_charts("plain text") == ({}, "plain text")


def test_a_lead_judged_on_too_few_renewals_draws_no_point() -> None:
    """One lost renewal 60 days ahead drew the detection line up to 100%, then down to 0%."""
    curve = [
        {"lead_days": 30, "lost": 9, "won": 34, "detected": 0.5556, "false_alarms": 0.0882},
        {"lead_days": 60, "lost": 1, "won": 15, "detected": 1.0, "false_alarms": 0.0667},
        {"lead_days": 75, "lost": 1, "won": 4, "detected": 0.0, "false_alarms": 0.0},
    ]
    charts, _ = audit_charts({"bands": {"curve": curve}})
    svg = str(charts["lead"])
    assert (
        "30 d lost renewals red: 56%" in svg and "60 d won renewals red (false alarms): 7%" in svg
    )
    assert "60 d lost renewals red" not in svg and "75 d won renewals red" not in svg


def test_a_model_with_no_fitted_alert_says_the_scorecards_threshold_applies() -> None:
    _, rest = audit_charts({"cv_auc": 0.8, "alert": None})
    assert rest["alert"].endswith("the scorecard's risk.high_at applies")
    _, fitted = audit_charts({"alert": {"high_at": 0.31}})
    assert fitted["alert"] == {"high_at": 0.31}


def test_nothing_stored_yet_says_what_will_store_it(chromium, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    upgrade(url)
    engine = make_engine(url)
    with serve(create_app(web_settings(url), make_session_factory(engine))) as base:
        page = sign_in(chromium, base, VIEWER_TOKEN)
        response = page.goto(base + "/ops/audit")
        assert response is not None and response.status == 200
        assert "No renewal-risk model" in (page.text_content("[data-testid=no-model]") or "")
        assert "nightly reconcile" in (page.text_content("[data-testid=no-trust]") or "")
    engine.dispose()
