"""The fitted renewal-risk model: labels from history, CV by account, calibration, storage, default use."""

from __future__ import annotations

import math
import random
from datetime import date, timedelta

import numpy as np
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from model.db import make_engine, make_session_factory, transaction
from model.tables import HealthSnapshot, RiskModelVersion
from pulsehub.settings import get_settings
from scoring.audit import latest_audit
from scoring.config import load_scorecard
from scoring.fit import (
    EMPHASIS_DAYS,
    NotEnoughHistory,
    TrainingSet,
    account_weights,
    fit_risk,
    lead_emphasis,
)
from scoring.risk_model import snapshot_features
from scoring.risk_store import (
    FEATURES,
    active_model,
    fit_from_database,
    refit_if_due,
    save_model,
    training_from_database,
)
from scoring.service import score_accounts
from tests.scoring import factories as f

CARD = load_scorecard()
END = date(2026, 6, 1)


def _synthetic(n: int, seed: int = 3) -> TrainingSet:
    """Accounts with 4 rows each; churn odds rise with x (true slope 2), 20% base rate."""
    rng = random.Random(seed)
    ts = TrainingSet()
    for acc in range(n):
        x = rng.gauss(0, 1)
        lost = rng.random() < 1 / (1 + math.exp(-(-1.9 + 2.0 * x)))
        for k in range(4):
            ts.add({"x": x + rng.gauss(0, 0.2), "noise": rng.gauss(0, 1)}, int(lost), acc, "SMB", k)
        ts.outcomes += 1
        ts.lost += int(lost)
    return ts


def test_every_account_weighs_the_same_however_many_rows_it_has() -> None:
    """An account snapshotted 20 times pulls the fit no harder than one snapshotted once."""
    ts = _synthetic(300)
    heavy = TrainingSet(outcomes=ts.outcomes, lost=ts.lost)
    for feats, label, group, seg, (_, key) in zip(
        ts.features, ts.labels, ts.groups, ts.segments, ts.keys, strict=True
    ):
        for copy in range(20 if group % 7 == 0 else 1):  # a seventh of the book, 20x the rows
            heavy.add(dict(feats), label, group, seg, (key, copy))
    plain, weighted = fit_risk(ts, ["x", "noise"]).model, fit_risk(heavy, ["x", "noise"]).model
    # equal up to the solver, the 2-98% clips and GroupKFold's folds (balanced by row count)
    assert weighted.coef == pytest.approx(plain.coef, abs=0.005)
    assert weighted.intercept == pytest.approx(plain.intercept, abs=0.005)
    assert weighted.platt["*"] == pytest.approx(plain.platt["*"], rel=0.05)


def test_rows_weigh_most_at_the_lead_time_within_an_account() -> None:
    """Emphasis moves weight between an account's rows, never between accounts: all of it on
    one row per account fits what those rows alone fit."""
    assert lead_emphasis(EMPHASIS_DAYS) == 1.0
    assert lead_emphasis(EMPHASIS_DAYS - 30) == lead_emphasis(EMPHASIS_DAYS + 30) < 0.5
    assert lead_emphasis(170) < lead_emphasis(100) < lead_emphasis(60) < 1.0
    groups = np.array([1, 1, 2, 2, 2])
    w = account_weights(groups, np.array([1.0, 3.0, 1.0, 1.0, 2.0]))
    assert w.tolist() == pytest.approx([0.25, 0.75, 0.25, 0.25, 0.5])
    rng = random.Random(9)
    full, first = TrainingSet(), TrainingSet()
    for acc in range(400):
        x = rng.gauss(0, 1)
        lost = int(rng.random() < 1 / (1 + math.exp(-(-1.5 + 1.5 * x))))
        for k in range(4):  # later rows: pure noise, almost no weight
            row = {"x": x if k == 0 else rng.gauss(0, 1)}
            full.add(row, lost, acc, None, k, 1.0 if k == 0 else 1e-9)
            if k == 0:
                first.add(dict(row), lost, acc, None, k)
        for t in (full, first):
            t.outcomes, t.lost = t.outcomes + 1, t.lost + lost
    weighted, alone = fit_risk(full, ["x"]).model, fit_risk(first, ["x"]).model
    plain = fit_risk(TrainingSet(full.features, full.labels, full.groups, full.segments,
                                 full.keys, [1.0] * len(full.labels), full.outcomes, full.lost),
                     ["x"]).model  # fmt: skip
    assert weighted.platt["*"][0] * weighted.coef[0] == pytest.approx(
        alone.platt["*"][0] * alone.coef[0], rel=0.1
    )
    assert abs(plain.platt["*"][0] * plain.coef[0]) < 0.5 * abs(alone.platt["*"][0] * alone.coef[0])


def test_fit_ranks_is_calibrated_and_explains_faithfully() -> None:
    ts = _synthetic(600)
    result = fit_risk(ts, ["x", "noise"])
    m = result.metrics
    assert m["cv_auc"] > 0.8 and m["cv_brier"] < 0.8 * m["base_rate_brier"]
    assert 0.8 <= m["calibration_slope"] <= 1.2, "class weights undone by the calibration"
    mean_p = sum(result.oof) / len(result.oof)
    assert abs(mean_p - m["base_rate"]) < 0.03
    model = result.model
    rows: list[dict[str, float | None]] = [
        {"x": -1.0, "noise": 0.3},
        {"x": 2.0, "noise": -1.0},
        {"x": None, "noise": 0.0},
    ]
    gaps = [model.log_odds(r, "SMB") - sum(model.contributions(r, "SMB").values()) for r in rows]
    assert max(gaps) - min(gaps) < 1e-9, "contributions add up to the log-odds (less a constant)"
    assert model.predict(rows[1]) > model.predict(rows[0])
    assert [d["driver"] for d in model.drivers(rows[1])][:1] == ["x"]


def test_too_little_history_says_what_is_missing() -> None:
    with pytest.raises(NotEnoughHistory, match=r"12 labelled renewal outcomes \(\d+ lost"):
        fit_risk(_synthetic(12), ["x"])


def _history(s, accounts: int, seed: int = 5) -> None:
    """Weekly snapshots before one renewal each; the lost ones had falling usage."""
    rng = random.Random(seed)
    for _ in range(accounts):
        a = f.account(s)
        decided = END - timedelta(days=rng.randint(0, 120))
        weak = rng.random() < 0.3
        lost = rng.random() < (0.7 if weak else 0.1)
        f.opportunity(s, a, decided, is_closed=True, is_won=not lost, amount=10_000.0)
        for week in range(1, 27):
            day = decided - timedelta(days=7 * week)
            change = (-0.4 if weak else 0.0) + rng.gauss(0, 0.1)
            score = 40.0 if weak else 70.0
            s.add(HealthSnapshot(account_id=a.id, as_of=day, score=score, band="yellow",
                                 computed_score=score, computed_band="yellow",
                                 signals={"usage_change_90d": change, "arr": 0.0 if lost else 1.0}))  # fmt: skip
    s.flush()


def test_training_rows_are_labelled_by_the_next_renewal_within_the_horizon() -> None:
    s = f.make_session()
    a = f.account(s)
    f.opportunity(s, a, END, is_closed=True, is_won=False, amount=1.0)
    for days_before in (10, 100, 200):
        s.add(HealthSnapshot(account_id=a.id, as_of=END - timedelta(days=days_before), score=50.0,
                             band="yellow", computed_score=50.0, signals={"csat": 0.5}))  # fmt: skip
    s.flush()
    ts = training_from_database(s, 180)
    assert ts.labels == [1, 1] and [k[1] for k in ts.keys] == [END - timedelta(days=100),
                                                               END - timedelta(days=10)]  # fmt: skip
    assert list(ts.emphasis) == [lead_emphasis(100), lead_emphasis(10)], "weighted by days ahead"
    assert ts.outcomes == 1 and ts.lost == 1
    assert "arr" not in FEATURES and "days_to_renewal" not in FEATURES, "current-state leaks"


def test_training_rows_carry_their_snapshots_computed_score() -> None:
    """The flag fit judges each training row's own computed score (a grey snapshot has none),
    the same score it used to look up in a dict of every snapshot."""
    s = f.make_session()
    a = f.account(s)
    f.opportunity(s, a, END, is_closed=True, is_won=False, amount=1.0)
    for days_before, computed in ((100, 61.5), (30, None), (10, 42.0)):
        s.add(HealthSnapshot(account_id=a.id, as_of=END - timedelta(days=days_before), score=50.0,
                             band="grey" if computed is None else "yellow",
                             computed_score=computed, signals={"csat": 0.5}))  # fmt: skip
    s.flush()
    ts = training_from_database(s, 180)
    assert ts.scores == [61.5, None, 42.0] and len(ts.scores) == len(ts.keys)


def test_training_read_keeps_each_accounts_rows_segment_and_decisions() -> None:
    """Rows read as numbers and made into the set's lists after the stream: each account's
    rows keep its segment and its own decision, and a decision labels several rows but counts
    once (one lost, one won here, the won account's two renewals both in reach)."""
    s = f.make_session()
    smb, ent = f.account(s, segment="SMB"), f.account(s, segment="Enterprise")
    f.opportunity(s, smb, END, is_closed=True, is_won=False, amount=1.0)
    f.opportunity(s, ent, END - timedelta(days=60), is_closed=True, is_won=True, amount=1.0)
    f.opportunity(s, ent, END, is_closed=True, is_won=True, amount=1.0)
    for a in (smb, ent):
        for days_before in (120, 30):
            s.add(HealthSnapshot(account_id=a.id, as_of=END - timedelta(days=days_before),
                                 score=50.0, band="yellow", computed_score=50.0 + days_before,
                                 signals={"csat": 0.5}))  # fmt: skip
    s.flush()
    ts = training_from_database(s, 180)
    days = [END - timedelta(days=120), END - timedelta(days=30)]
    assert list(ts.keys) == [
        (smb.id, days[0]),
        (smb.id, days[1]),
        (ent.id, days[0]),
        (ent.id, days[1]),
    ]
    assert list(ts.groups) == [smb.id, smb.id, ent.id, ent.id] and ts.labels == [1, 1, 0, 0]
    assert ts.segments == ["SMB", "SMB", "Enterprise", "Enterprise"]
    assert ts.scores == [170.0, 80.0, 170.0, 80.0]
    assert list(ts.emphasis) == [
        lead_emphasis(120),
        lead_emphasis(30),
        lead_emphasis(60),
        lead_emphasis(30),
    ]
    assert (ts.outcomes, ts.lost) == (3, 1), "smb's loss once; ent's two won renewals"
    assert len(ts.features) == 4 and ts.features[0]["csat"] == 0.5


def test_stored_model_is_used_by_default_and_the_prior_is_flagged() -> None:
    s = f.make_session()
    _history(s, 160)
    live = f.account(s, lifecycle_stage="Adoption")
    f.usage(s, live, END - timedelta(days=150), 150, active=10, seats=40)
    f.ticket(
        s, live, f.at(END - timedelta(days=9)), csat="good", csat_at=f.at(END - timedelta(days=8))
    )
    f.contact(s, live, is_champion=True, source_created_at=f.at(date(2024, 2, 1)))
    assert latest_audit(s) is None
    prior = score_accounts(s, END, CARD, [live.id])[0]
    assert prior.risk_drivers[0]["driver"] == "uncalibrated"
    prior_risk = prior.renewal_risk
    result = fit_from_database(s, 180)
    assert result.metrics["cv_auc"] > 0.7
    version = save_model(s, result, "test").id
    model = active_model(s)
    assert model is not None and model.version == version
    fitted = score_accounts(s, END, CARD, [live.id])[0]
    assert all(d["driver"] != "uncalibrated" for d in fitted.risk_drivers)
    expected = model.predict(
        snapshot_features(fitted.computed_score, fitted.trend_28d, fitted.signals), "Mid-Market"
    )
    assert fitted.renewal_risk == pytest.approx(expected, abs=1e-4) != prior_risk
    assert s.scalars(select(RiskModelVersion.active)).all() == [True]
    shown = latest_audit(s)  # what the dashboard's audit page lists
    assert shown is not None and shown["renewal-risk model"].startswith(f"v{version} (")
    assert shown["cv_auc"] == result.metrics["cv_auc"] and shown["reliability"]


def test_nightly_refit_only_with_enough_new_outcomes() -> None:
    s = f.make_session()
    _history(s, 20)
    assert refit_if_due(s, 180) is None, "too little history: the prior stays"
    _history(s, 140, seed=6)
    first = refit_if_due(s, 180)
    assert first is not None
    assert refit_if_due(s, 180) is None, "no new outcomes since"
    _history(s, 30, seed=7)
    second = refit_if_due(s, 180)
    assert second is not None and second > first
    assert s.scalars(select(RiskModelVersion.id).where(RiskModelVersion.active)).all() == [second]


def test_cli_fit_stores_a_version_or_says_why_not(migrated_url, monkeypatch) -> None:
    from pulsehub.commands.score import app

    monkeypatch.setenv("PULSEHUB_DATABASE_URL", migrated_url)
    get_settings.cache_clear()
    engine = make_engine(migrated_url)
    factory = make_session_factory(engine)
    try:
        with transaction(factory) as s:
            _history(s, 10)
        runner = CliRunner()
        refused = runner.invoke(app, ["fit"])
        assert refused.exit_code == 1 and "labelled renewal outcomes" in refused.output
        with transaction(factory) as s:
            _history(s, 150, seed=8)
        done = runner.invoke(app, ["fit"])
        assert done.exit_code == 0, done.output
        assert "stored renewal-risk model v1" in done.output and "AUC" in done.output
        assert "high risk" in done.output, "the lead-time threshold, fitted or kept, is said"
        with factory() as s:
            assert s.scalars(select(RiskModelVersion.trained_on)).all() == ["database"]
            params = s.scalars(select(RiskModelVersion.params)).one()
        assert "alert" in params, "the threshold (or its absence) is stored with the version"
    finally:
        engine.dispose()
        get_settings.cache_clear()


def test_renewal_nearness_is_written_as_a_window_not_a_daily_count() -> None:
    from scoring.risk_model import driver_words

    assert driver_words("days_to_renewal", 45) == "renewal within 60 days"
    assert driver_words("days_to_renewal", 44) == driver_words("days_to_renewal", 31)
    assert driver_words("days_to_renewal", 400) == "renewal more than a year away"
    assert driver_words("days_to_renewal", -3) == "renewal date passed"


def test_a_fitted_models_drivers_read_as_words_in_their_units() -> None:
    """Salesforce's drivers field read "usage change 90d -0.179; health score 54.6; feature
    breadth vs high 26w -0.167": names and raw numbers, not what a sales rep reads."""
    from scoring.risk_model import driver_words

    phrases = CARD.phrases
    words = {
        "usage_change_90d": (-0.179, "active users down 18% vs 90-day baseline"),
        "active_users_per_seat": (0.52, "52% of seats active on an average day"),
        "resolution_hours": (80.0, "tickets take 3 days to resolve on average"),
        "champions": (1.0, "1 champion on the account"),
        "health_score": (54.6, "health score 55 of 100"),
        "trend_28d": (-15.3, "health down 15 points in 28 days"),
        "feature_breadth_vs_high_26w": (-0.167, "feature breadth 17% under its 26-week high"),
        "dau_mau_vs_high_26w": (0.0, "DAU/MAU at its 26-week high"),
        "logins_per_user_rel_change_13w": (-0.3, "logins per user down 30% on a quarter ago"),
        "seat_use_change_13w": (-0.12, "seat use down 12 points on a quarter ago"),
        "mystery_signal": (0.123456, "mystery signal 0.123"),
    }
    for name, (value, text) in words.items():
        assert driver_words(name, value, phrases) == text, name
    assert driver_words("csat", None, phrases) == "csat: no data"
    assert driver_words("repeat_issue_tickets", 4.0, phrases, "sso") == (
        "4 tickets about the same issue ('sso') in 90 days"
    )
    assert driver_words("usage_change_90d", -0.179) == "usage change 90d -0.179", (
        "no units: the number"
    )


def test_a_fit_with_no_skill_out_of_sample_is_refused_not_stored() -> None:
    """Weekly rows of few accounts, labels unrelated to the features: the model memorizes
    accounts and ranks held-out ones at or below chance; it must not become the active model."""
    from scoring.fit import NoSkill

    rng = random.Random(8)
    ts = TrainingSet()
    for acc in range(60):
        lost = acc % 4 == 0
        level = rng.gauss(0, 1)  # an account-constant feature unrelated to the outcome
        for week in range(20):
            ts.add({"x": level + rng.gauss(0, 0.05)}, int(lost), acc, None, week)
    ts.outcomes, ts.lost = 60, 15
    with pytest.raises(NoSkill, match=r"no better than chance out of sample"):
        fit_risk(ts, ["x"])


def test_a_column_constant_in_some_folds_training_rows_leaves_the_fit_intact() -> None:
    """Time to first value was 36.5 days for every account but those in one fold (seen on
    the sandbox): clipped to percentiles, some rows read 36.49999999999999, so its training
    deviation was a floating-point residue (not 0), and dividing by it made that fold's
    scores 1e15 and the calibration fitted on them void."""
    from sklearn.model_selection import GroupKFold

    base = _synthetic(300)
    groups = np.array(base.groups)
    _, first_test = next(GroupKFold(n_splits=5).split(groups, groups, groups))
    odd = set(groups[first_test].tolist())  # a fifth of the accounts, all in one fold
    ts = TrainingSet(outcomes=base.outcomes, lost=base.lost)
    rows = zip(base.features, base.labels, base.groups, base.keys, strict=True)
    for feats, label, group, key in rows:
        ttfv = 6.0 + group % 30 if group in odd else (36.5, np.nextafter(36.5, 0))[key[1] % 2]
        emphasis = lead_emphasis(7 * key[1] + 10)  # rows weigh unevenly within the account
        ts.add({**feats, "ttfv": ttfv}, label, group, "SMB", key[1], emphasis)
    with_it = fit_risk(ts, ["x", "noise", "ttfv"])
    without = fit_risk(ts, ["x", "noise"])
    assert abs(with_it.metrics["cv_auc"] - without.metrics["cv_auc"]) < 0.03
    assert with_it.metrics["cv_brier"] < with_it.metrics["base_rate_brier"]
    oof = np.array(with_it.oof)
    assert np.abs(np.log(oof / (1 - oof))).max() < 12, "no out-of-fold score thrown to 0 or 1"


def test_a_fold_fitted_with_its_held_out_rows_weighing_zero_is_the_fold_fitted_alone() -> None:
    """The fit holds one matrix and fits each fold on all of it, the held-out rows weighing 0,
    instead of copying the fold's training rows out: the same means, scales, coefficients
    and held-out scores, and the matrix is put back after each fit."""
    from sklearn.model_selection import GroupKFold

    from scoring.fit import _fit_linear, _matrix, _unstandardize, design

    ts = _synthetic(300)
    ts.emphasis = [lead_emphasis(7 * (i % 4) + 10) for i in range(len(ts.labels))]
    model = design(ts, ["x", "noise"], [])
    x, y = _matrix(model, ts.features), np.array(ts.labels)
    groups = np.array(ts.groups)
    w = account_weights(groups, np.array(ts.emphasis))
    original = x.copy()
    for train, test in GroupKFold(n_splits=5).split(x, y, groups):
        alone = x[train].copy()
        a_means, a_scales, a_clf = _fit_linear(alone, y[train], w[train])
        held_out = x[test].copy()
        a_scores = a_clf.decision_function((held_out - a_means) / a_scales)
        fold = np.zeros_like(w)
        fold[train] = w[train]
        means, scales, clf = _fit_linear(x, y, fold)
        scores = clf.decision_function(x)[test]
        _unstandardize(x, means, scales)
        assert np.allclose(means, a_means, rtol=1e-12) and np.allclose(scales, a_scales, rtol=1e-12)
        assert np.allclose(clf.coef_, a_clf.coef_, atol=1e-6)
        assert np.allclose(scores, a_scores, atol=1e-6)
        assert np.allclose(x, original, rtol=1e-14, atol=1e-14)


def test_a_stored_column_that_was_constant_in_training_reads_zero() -> None:
    ts = _synthetic(200)
    model = fit_risk(ts, ["x", "noise"]).model
    model.scales[1] = 7.1e-15  # a model stored before the fix, its constant column's residue
    model.means[1] = 36.49999999999999
    assert model.standardized({"x": 0.5, "noise": 6.26})[1] == 0.0
    assert 0.0 < model.predict({"x": 0.5, "noise": 6.26}, "SMB") < 1.0
