"""Seat use a quarter ago: the value training derives from an account's snapshot list equals
the one scoring reads from the database, only snapshots 84-98 days back count (the newest),
and the risk model's feature is today's seat use minus it."""

from __future__ import annotations

import random
from datetime import date, timedelta

from model.tables import HealthSnapshot
from scoring import lagged
from scoring.risk_model import snapshot_features
from tests.scoring import factories as f

DAY = date(2026, 6, 1)


def _history(rng: random.Random, weeks: int, start_offset: int) -> list[tuple[date, float | None]]:
    """Weekly snapshots on irregular weekdays; some without a seat-use value."""
    days = sorted(
        {DAY - timedelta(days=7 * w + start_offset + rng.randint(0, 3)) for w in range(weeks)}
    )
    return [(d, None if rng.random() < 0.15 else round(rng.random(), 4)) for d in days]


def test_the_database_lookup_equals_the_training_derivation() -> None:
    s = f.make_session()
    rng = random.Random(3)
    expected: dict[int, float | None] = {}
    for _ in range(40):
        acct = f.account(s)
        history = _history(rng, rng.randint(0, 20), rng.randint(0, 30))
        for day, value in history:
            signals = {} if value is None else {"active_users_per_seat": value}
            s.add(HealthSnapshot(account_id=acct.id, as_of=day, score=70.0, band="yellow",
                                 computed_score=70.0, signals=signals))  # fmt: skip
        expected[acct.id] = lagged.lag_value(history, DAY)
    s.flush()
    ids = sorted(expected)
    got = lagged.lagged_seat_use(s, DAY, ids)
    assert got == {aid: v for aid, v in expected.items() if v is not None}
    assert lagged.lagged_seat_use(s, DAY, None) == got, "the whole book reads the same"
    assert 5 < len(got) < 40, "the sample has accounts with and without a quarter-old value"


def test_only_the_newest_snapshot_12_to_14_weeks_back_counts() -> None:
    history = [
        (DAY - timedelta(days=99), 0.9),  # too old
        (DAY - timedelta(days=98), 0.8),
        (DAY - timedelta(days=84), 0.7),  # the newest in the window
        (DAY - timedelta(days=83), 0.1),  # too recent
    ]
    assert lagged.lag_value(history, DAY) == 0.7
    assert lagged.lag_value(history[:1] + history[3:], DAY) is None
    assert lagged.lag_value([], DAY) is None


def test_the_feature_is_todays_seat_use_minus_a_quarter_ago() -> None:
    features = snapshot_features(70.0, -2.0, {"active_users_per_seat": 0.35}, 0.5)
    assert features[lagged.FEATURE] == -0.15
    assert snapshot_features(70.0, None, {"active_users_per_seat": 0.35})[lagged.FEATURE] is None
    assert snapshot_features(70.0, None, {}, 0.5)[lagged.FEATURE] is None
