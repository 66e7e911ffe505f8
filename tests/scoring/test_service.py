"""score_accounts / backfill_snapshots: upsert, overrides and their expiry, parent roll-up."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from model.tables import HealthSnapshot, ScoreOverride
from scoring.config import load_scorecard, parse_scorecard
from scoring.health import band_for
from scoring.overrides import apply_override
from scoring.service import backfill_snapshots, score_accounts, score_all
from sync.writeback import logical_fields
from tests.scoring import factories as f
from tests.sync.factories import TARGETS

AS_OF = date(2026, 6, 1)
CARD = load_scorecard()


@pytest.fixture()
def s():
    session = f.make_session()
    yield session
    session.close()


def _healthy(s, **kw):
    a = f.account(s, **kw)
    f.usage(s, a, AS_OF - timedelta(days=150), 151, active=30, seats=40, features=7, logins=90)
    f.ticket(s, a, f.at(AS_OF - timedelta(days=20)), status="solved", csat="good",
             csat_at=f.at(AS_OF - timedelta(days=19)), solved_at=f.at(AS_OF - timedelta(days=19)))  # fmt: skip
    f.contact(s, a, is_champion=True, source_created_at=f.at(date(2024, 2, 1)))
    return a


def _failing(s, **kw):
    a = f.account(s, **kw)
    f.usage(s, a, AS_OF - timedelta(days=150), 123, active=30, seats=40, features=2, logins=20)
    f.usage(s, a, AS_OF - timedelta(days=27), 28, active=3, seats=40, features=1, logins=3)
    f.ticket(s, a, f.at(AS_OF - timedelta(days=120)), status="solved",
             solved_at=f.at(AS_OF - timedelta(days=119)))  # fmt: skip
    f.ticket(s, a, f.at(AS_OF - timedelta(days=60)), status="solved", first_reply_minutes=300,
             solved_at=f.at(AS_OF - timedelta(days=58)), full_resolution_minutes=2880)  # fmt: skip
    for i in range(3):  # slow first replies (the support measures need some data to count)
        f.ticket(s, a, f.at(AS_OF - timedelta(days=5 + i)), priority="urgent", tags=["sync"],
                 csat="bad", csat_at=f.at(AS_OF - timedelta(days=4)),
                 first_reply_minutes=600)  # fmt: skip
    return a


def test_scores_upserts_and_keeps_one_row_per_account_and_day(s) -> None:
    good, bad = _healthy(s), _failing(s)
    snaps = {x.account_id: x for x in score_accounts(s, AS_OF, CARD)}
    assert snaps[good.id].band == "green" and snaps[bad.id].band == "red"
    red = snaps[bad.id]
    assert red.reasons[0]["points_lost"] >= red.reasons[-1]["points_lost"]
    assert CARD.measures[red.reasons[0]["measure"]].group == "usage"
    assert red.renewal_risk is not None and red.risk_level in {"medium", "high"}
    assert snaps[good.id].risk_level == "low"
    assert red.risk_drivers and all("text" in d for d in red.risk_drivers)
    assert red.computed_score == red.score and red.override_id is None
    again = score_accounts(s, AS_OF, CARD)
    assert {x.id for x in again} == {x.id for x in snaps.values()}
    count = s.scalar(select(func.count()).select_from(HealthSnapshot))
    assert count == 2


def test_override_applies_keeps_computed_and_lapses_after_expiry(s) -> None:
    bad = _failing(s)
    o = f.override(s, bad, f.at(AS_OF + timedelta(days=3)), band="yellow", score=60.0,
                   created_at=f.at(AS_OF - timedelta(days=1)))  # fmt: skip
    snap = score_accounts(s, AS_OF, CARD, now=f.at(AS_OF))[0]
    assert (snap.band, snap.score, snap.override_id) == ("yellow", 60.0, o.id)
    assert (
        snap.computed_band == "red" and snap.computed_score is not None and snap.computed_score < 50
    )
    later = AS_OF + timedelta(days=7)
    lapsed = score_accounts(s, later, CARD, now=f.at(later))[0]
    assert lapsed.band == "red" and lapsed.override_id is None
    # a past replay does not see an override created after that day
    before = score_accounts(s, AS_OF - timedelta(days=7), CARD, now=f.at(AS_OF))[0]
    assert before.override_id is None


def test_revoked_override_and_band_only_override(s) -> None:
    bad = _failing(s)
    f.override(s, bad, f.at(AS_OF + timedelta(days=3)), band="green", revoked=True,
               created_at=f.at(AS_OF - timedelta(days=1)))  # fmt: skip
    assert score_accounts(s, AS_OF, CARD, now=f.at(AS_OF))[0].band == "red"
    f.override(s, bad, f.at(AS_OF + timedelta(days=3)), band="yellow",
               created_at=f.at(AS_OF - timedelta(hours=2)))  # fmt: skip
    snap = score_accounts(s, AS_OF, CARD, now=f.at(AS_OF))[0]
    # what is written back agrees with itself: the score moves into the overridden band,
    # and the first reason names the override, its reason and what was computed
    assert snap.band == "yellow" and snap.computed_band == "red"
    assert snap.score == 50.0 and snap.computed_score < 50
    assert band_for(snap.score, CARD) == "yellow"
    first = snap.reasons[0]["text"]
    assert first.startswith("Overridden to YELLOW") and "CSM knows better" in first
    assert f"computed {round(snap.computed_score)}, red" in first
    written = TARGETS["account"][0].fields.render(logical_fields(snap))
    assert written["health_reasons"].startswith("Overridden to YELLOW")


@pytest.mark.parametrize(
    ("band", "computed", "expected"),
    [("red", 72.0, 49.0), ("green", 30.0, 75.0), ("yellow", 90.0, 74.0), ("yellow", 60.0, 60.0)],
)
def test_band_only_override_moves_the_score_into_its_band(band, computed, expected) -> None:
    o = ScoreOverride(band=band, reason="r", author="jo", expires_at=f.at(AS_OF))
    got = apply_override(computed, band_for(computed, CARD), [], o, CARD)
    assert got.score == expected and band_for(round(got.score), CARD) == band
    assert got.reasons[0]["text"].startswith(f"Overridden to {band.upper()} by jo until")


def test_parent_rolls_up_children_arr_weighted(s) -> None:
    parent = _healthy(s, arr=100_000.0)
    big_bad = _failing(s, arr=300_000.0, parent_id=parent.id)
    small_good = _healthy(s, arr=100_000.0, parent_id=parent.id)
    snaps = {x.account_id: x for x in score_accounts(s, AS_OF, CARD)}
    own = snaps[parent.id].signals["own_score"]
    kids = [snaps[big_bad.id].score, snaps[small_good.id].score]
    expected = (own * 100_000 + kids[0] * 300_000 + kids[1] * 100_000) / 500_000
    assert snaps[parent.id].score == pytest.approx(expected, abs=0.01)
    assert snaps[parent.id].reasons[0]["measure"] == "children"
    # scoring only the parent uses the children's stored snapshots of the day
    alone = score_accounts(s, AS_OF, CARD, [parent.id])[0]
    assert alone.score == pytest.approx(expected, abs=0.01)


def test_backfill_builds_history_for_trend(s) -> None:
    bad = _failing(s)
    written = backfill_snapshots(s, AS_OF - timedelta(days=56), AS_OF, CARD, step_days=7)
    assert written == 9
    latest = s.scalars(select(HealthSnapshot).where(HealthSnapshot.as_of == AS_OF)).one()
    assert latest.account_id == bad.id
    assert latest.trend_28d is not None and latest.trend_28d < -10
    assert latest.sharp_drop == (latest.trend_28d <= -CARD.trend.sharp_drop_points)
    assert latest.signals["trend_slope_per_week"] < 0
    with pytest.raises(ValueError):
        backfill_snapshots(s, AS_OF, AS_OF, CARD, step_days=0)


def test_score_all_in_batches_matches_score_accounts_and_rolls_up_across_batches(s) -> None:
    parent = _healthy(s, arr=100_000.0)
    kids = [
        _failing(s, arr=300_000.0, parent_id=parent.id),
        _healthy(s, arr=50_000.0, parent_id=parent.id),
    ]
    grandchild = _failing(s, arr=10_000.0, parent_id=kids[1].id)
    whole = {x.account_id: (x.score, x.band, x.reasons) for x in score_accounts(s, AS_OF, CARD)}
    s.query(HealthSnapshot).delete()
    counts = score_all(s, AS_OF, CARD, batch_size=1)  # every account in its own batch
    assert sum(counts.values()) == 4
    stored = {x.account_id: x for x in s.scalars(select(HealthSnapshot))}
    for aid in (parent.id, kids[0].id, kids[1].id, grandchild.id):
        assert stored[aid].score == pytest.approx(whole[aid][0], abs=0.01)
        assert stored[aid].band == whole[aid][1]
    assert counts == dict(Counter(b for _, b, _ in whole.values()))


def test_percentile_measures_rank_against_the_whole_population_even_for_a_subset(s) -> None:
    raw = CARD.model_dump(mode="json")
    raw["measures"]["logins_per_user"]["normalization"] = {
        "kind": "percentile",
        "poor": 0,
        "good": 100,
    }
    card = parse_scorecard(raw)
    low, high = _healthy(s), _healthy(s)
    f.usage(s, high, AS_OF, 1, active=30, seats=40, features=7, logins=900, workspace="extra")
    alone = score_accounts(s, AS_OF, card, [low.id])[0]
    assert alone.signals["measure_scores"]["logins_per_user"] == 0.25  # below its one peer
    counts = score_all(s, AS_OF, card)
    assert sum(counts.values()) == 2
    top = s.scalars(select(HealthSnapshot).where(HealthSnapshot.account_id == high.id)).one()
    assert top.signals["measure_scores"]["logins_per_user"] == 0.75
