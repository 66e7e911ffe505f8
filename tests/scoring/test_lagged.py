"""Usage against the account's own past: what training derives from an account's snapshot list
equals what scoring reads from the database (so a model is applied to the features it learned
from), only the right snapshots count, and the features are the stated ratios."""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

import pytest

from model.tables import HealthSnapshot
from scoring import lagged
from scoring.risk_model import snapshot_features
from scoring.risk_store import FEATURES, training_from_database
from tests.scoring import factories as f

DAY = date(2026, 6, 1)


def _signals(rng: random.Random) -> dict[str, Any]:
    """Some measures missing, some zero (a ratio to zero is undefined), the rest random."""
    out: dict[str, Any] = {}
    for name in lagged.MEASURES:
        draw = rng.random()
        if draw < 0.1:
            continue
        out[name] = 0.0 if draw < 0.15 else round(rng.uniform(0.05, 5.0), 4)
    return out


def _history(rng: random.Random, weeks: int, start_offset: int) -> list[tuple[date, dict]]:
    """Weekly snapshots on irregular weekdays, up to 30 weeks back (older than the windows)."""
    days = sorted(
        {DAY - timedelta(days=7 * w + start_offset + rng.randint(0, 3)) for w in range(weeks)}
    )
    return [(d, _signals(rng)) for d in days]


def _store(s, acct_id: int, history: list[tuple[date, dict]]) -> None:
    for day, signals in history:
        s.add(HealthSnapshot(account_id=acct_id, as_of=day, score=70.0, band="yellow",
                             computed_score=70.0, signals=signals))  # fmt: skip


def test_the_database_lookup_equals_the_training_derivation(any_session) -> None:
    """On SQLite and PostgreSQL: the measures are read out of the stored signals by SQL."""
    s = any_session
    rng = random.Random(3)
    derived: dict[int, lagged.Past] = {}
    for _ in range(60):
        acct = f.account(s)
        history = _history(rng, rng.randint(0, 30), rng.randint(1, 30))
        history += [(DAY, _signals(rng)), (DAY + timedelta(days=3), _signals(rng))]  # not before
        _store(s, acct.id, history)
        derived[acct.id] = lagged.from_snapshots(history, DAY)
    s.flush()
    ids = sorted(derived)
    read = lagged.past_usage(s, DAY, ids)
    assert lagged.past_usage(s, DAY, None) == read, "the whole book reads the same"
    for aid in ids:
        got = read.get(aid, lagged.Past())
        assert got.quarter_ago == derived[aid].quarter_ago
        assert got.high == pytest.approx(derived[aid].high)
        today = _signals(rng)
        assert lagged.features(today, got) == lagged.features(today, derived[aid])
    with_lag = sum(bool(p.quarter_ago) for p in derived.values())
    assert 5 < with_lag < 60, "the sample has accounts with and without a quarter-old snapshot"


def test_training_rows_carry_the_features_scoring_computes() -> None:
    """Each training row's lag features equal the ones scoring computes for that snapshot's
    day from the database (the snapshot itself and later ones not counted)."""
    s = f.make_session()
    rng = random.Random(4)
    ids = []
    for _ in range(20):
        acct = f.account(s)
        ids.append(acct.id)
        f.opportunity(s, acct, DAY + timedelta(days=40), is_closed=True, is_won=True, amount=1.0)
        _store(s, acct.id, [*_history(rng, 28, 7), (DAY, _signals(rng))])
    s.flush()
    ts = training_from_database(s, 180)
    rows = {key: feats for key, feats in zip(ts.keys, ts.features, strict=True)}
    read = lagged.past_usage(s, DAY, ids)
    stored = dict(
        s.query(HealthSnapshot.account_id, HealthSnapshot.signals)
        .filter(HealthSnapshot.as_of == DAY)
        .all()
    )
    for aid in ids:
        scored = snapshot_features(70.0, None, stored[aid], read.get(aid))
        assert {k: rows[(aid, DAY)][k] for k in lagged.FEATURES} == {
            k: scored[k] for k in lagged.FEATURES
        }
    assert set(lagged.FEATURES) <= set(FEATURES), "the model is trained on them"


def test_only_the_right_snapshots_count() -> None:
    def at(days_back: int, value: float) -> tuple[date, dict[str, float]]:
        return DAY - timedelta(days=days_back), {"dau_mau": value}

    history = [
        at(183, 9.0),  # older than the 26-week window
        at(182, 0.8),  # the window's oldest day
        at(98, 0.6),
        at(84, 0.5),  # the newest 12 to 14 weeks back
        at(83, 0.1),  # too recent for the quarter-ago value
        at(1, 0.2),
        at(0, 5.0),  # the scored day itself: never its own past
    ]
    past = lagged.from_snapshots(history, DAY)
    assert past.quarter_ago == {"dau_mau": 0.5} and past.high == {"dau_mau": 0.8}
    assert lagged.from_snapshots(history[:2] + history[4:], DAY).quarter_ago == {}
    assert lagged.from_snapshots([], DAY) == lagged.Past()


def test_the_features_are_changes_against_a_quarter_ago_and_the_26_week_high() -> None:
    past = lagged.Past(
        quarter_ago={"active_users_per_seat": 0.5, "dau_mau": 0.0},
        high={"active_users_per_seat": 0.7, "logins_per_user": 2.0},
    )
    features = snapshot_features(70.0, -2.0, {"active_users_per_seat": 0.35, "dau_mau": 0.3,
                                              "logins_per_user": 3.0}, past)  # fmt: skip
    assert features[lagged.FEATURE] == -0.15
    assert features["active_users_per_seat_rel_change_13w"] == -0.3
    assert features["active_users_per_seat_vs_high_26w"] == -0.5
    assert features["dau_mau_rel_change_13w"] is None, "no ratio to a zero"
    assert features["dau_mau_vs_high_26w"] == 0.0, "no earlier value: today is the high"
    assert features["logins_per_user_vs_high_26w"] == 0.0, "a new high"
    assert features["feature_breadth_rel_change_13w"] is None
    assert features["feature_breadth_vs_high_26w"] is None, "no value today"
    bare = snapshot_features(70.0, None, {"active_users_per_seat": 0.35})
    assert bare[lagged.FEATURE] is None and bare["active_users_per_seat_vs_high_26w"] == 0.0


def test_a_model_stored_before_these_features_still_scores() -> None:
    """An older version knows only the score and `seat_use_change_13w`: the new inputs are
    ignored, the one it knows is still there."""
    from scoring.risk_model import FittedRisk

    old = FittedRisk(
        numeric=["health_score", lagged.FEATURE], categorical={}, medians={}, indicators=[],
        columns=["health_score", lagged.FEATURE], means=[60.0, 0.0], scales=[10.0, 0.1],
        coef=[-0.8, -0.5], intercept=-1.0, platt={"*": [1.0, 0.0]},
    )  # fmt: skip
    stored_params = FittedRisk.from_params(old.to_params())
    past = lagged.Past(quarter_ago={"active_users_per_seat": 0.6}, high={"dau_mau": 0.9})
    features = snapshot_features(55.0, -1.0, {"active_users_per_seat": 0.4, "dau_mau": 0.3}, past)
    known = {"health_score": 55.0, lagged.FEATURE: -0.2}
    assert stored_params.predict(features) == pytest.approx(old.predict(known))
    assert set(stored_params.contributions(features)) == {"health_score", lagged.FEATURE}
