"""score_health: normalizations, missing/stale policies, profiles, coverage, reasons, trend."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scoring.config import Measure, Scorecard, load_scorecard, parse_scorecard
from scoring.health import PastScore, score_health, select_profile
from scoring.normalize import attach_percentiles, normalize, percentile_rank
from scoring.signals import AccountSignals
from tests.scoring.factories import healthy_signals

CARD = load_scorecard()


def _card(**changes: object) -> Scorecard:
    raw = CARD.model_dump(mode="json")
    raw.update(changes)
    return parse_scorecard(raw)


def _measure(**kw: object) -> Measure:
    base = {"group": "usage", "direction": "higher_is_better", "text": "x {value}"}
    return Measure.model_validate({**base, **kw})


def test_linear_both_directions_and_clamping() -> None:
    up = _measure(normalization={"kind": "linear", "poor": 0.1, "good": 0.5})
    assert normalize(up, 0.3) == pytest.approx(0.5)
    assert normalize(up, -1) == 0 and normalize(up, 9) == 1
    down = _measure(
        direction="lower_is_better", normalization={"kind": "linear", "poor": 24, "good": 4}
    )
    assert normalize(down, 14) == pytest.approx(0.5)
    assert normalize(down, 2) == 1 and normalize(down, 48) == 0


def test_tiers_step_function() -> None:
    tiers = [{"at": 0, "score": 1}, {"at": 1, "score": 0.5}, {"at": 3, "score": 0}]
    m = _measure(direction="lower_is_better", normalization={"kind": "tiers", "tiers": tiers})
    assert [normalize(m, v) for v in (-1, 0, 0.9, 1, 2.5, 3, 10)] == [1, 1, 1, 0.5, 0.5, 0, 0]


def test_percentile_within_segment() -> None:
    assert percentile_rank([1, 2, 3, 4], 3) == pytest.approx(62.5)
    raw = CARD.model_dump(mode="json")
    raw["measures"]["logins_per_user"]["normalization"] = {
        "kind": "percentile",
        "poor": 0,
        "good": 100,
    }
    card = parse_scorecard(raw)
    sigs = [healthy_signals(account_id=i, segment=seg, logins_per_user=v)
            for i, (seg, v) in enumerate([("SMB", 1), ("SMB", 3), ("Enterprise", 0.1)])]  # fmt: skip
    attach_percentiles(sigs, card)
    assert (
        sigs[0].percentiles["logins_per_user"] == 25
        and sigs[1].percentiles["logins_per_user"] == 75
    )
    assert sigs[2].percentiles["logins_per_user"] == 50  # alone in its segment
    m = card.measures["logins_per_user"]
    assert normalize(m, 1, 25) == pytest.approx(0.25)
    r = score_health(sigs[2], card, [])
    assert r.measure_scores["logins_per_user"] == pytest.approx(0.5)


def test_healthy_account_is_green_with_full_coverage() -> None:
    r = score_health(healthy_signals(), CARD, [])
    assert r.band == "green" and r.score is not None and r.score > 90
    assert r.profile == "adoption"
    assert r.coverage == pytest.approx(1 - _weight_share("relationship", "nps"), abs=0.01)


def _weight_share(group: str, measure: str) -> float:
    w = CARD.profiles["adoption"].weights
    total_in_group = sum(m.weight for m in CARD.measures.values() if m.group == group)
    return w[group] * CARD.measures[measure].weight / total_in_group / sum(w.values())


def test_reasons_are_points_lost_most_first_and_add_up() -> None:
    sig = healthy_signals(usage_change_90d=-0.42, csat=0.7, open_urgent_tickets=1.0)
    r = score_health(sig, _card(max_reasons=20), [])
    lost = [x.points_lost for x in r.reasons]
    assert lost == sorted(lost, reverse=True)
    assert sum(lost) == pytest.approx(100 - (r.score or 0), abs=0.1)
    first = r.reasons[0]
    good = CARD.measures["usage_change_90d"].normalization.good  # type: ignore[union-attr]
    assert first.measure == "usage_change_90d" and first.value == -0.42 and first.threshold == good
    assert first.text.startswith("active users down 42% vs 90-day baseline")
    healthy = score_health(healthy_signals(), _card(max_reasons=20), [])
    before = {x.measure: x.points_lost for x in healthy.reasons}
    after = {x.measure: x.points_lost for x in r.reasons}
    worse = ("usage_change_90d", "csat", "open_urgent_tickets")
    for measure in worse:  # each measure made worse loses more points than when healthy
        assert after[measure] > before.get(measure, 0.0) + 1.0, measure
    assert set(after) - set(before) <= set(worse)


def test_missing_policies() -> None:
    sig = healthy_signals(csat=None)
    excluded = score_health(sig, CARD, [])
    assert "csat" not in excluded.measure_scores and excluded.band == "green"
    raw = CARD.model_dump(mode="json")
    raw["measures"]["csat"]["missing"] = "poor"
    poor = score_health(sig, parse_scorecard(raw), [])
    assert poor.measure_scores["csat"] == 0 and (poor.score or 0) < (excluded.score or 0)
    assert any(x.text == "no data for csat" for x in poor.reasons)
    raw["measures"]["csat"]["missing"] = "neutral"
    assert score_health(sig, parse_scorecard(raw), []).measure_scores["csat"] == 0.5
    assert poor.coverage == excluded.coverage  # policy changes the score, never the coverage


def test_stale_usage_is_excluded_and_can_drop_to_insufficient_data() -> None:
    fresh = score_health(healthy_signals(), CARD, [])
    stale = score_health(healthy_signals(ages={"usage": 30.0, "csat": 10.0}), CARD, [])
    assert "dau_mau" not in stale.measure_scores
    assert stale.coverage < fresh.coverage
    assert stale.band == "insufficient_data" and stale.score is None
    assert stale.reasons[0].measure == "coverage"


def test_coverage_rule_never_green() -> None:
    thin = AccountSignals(account_id=1, as_of=date(2026, 6, 1), csat=1.0, champions=3.0)
    r = score_health(thin, CARD, [])
    assert r.band == "insufficient_data" and r.score is None
    assert r.coverage < CARD.coverage.minimum
    lenient = _card(coverage={"minimum": 0.0})
    assert score_health(thin, lenient, []).band == "green"


@pytest.mark.parametrize(
    ("kw", "profile"),
    [
        ({"lifecycle_stage": "Onboarding", "days_since_customer": 900.0}, "onboarding"),
        ({"lifecycle_stage": "renewal"}, "renewal"),
        ({"lifecycle_stage": "Adoption", "days_to_renewal": 10.0}, "adoption"),
        ({"lifecycle_stage": None, "days_since_customer": 30.0}, "onboarding"),
        ({"lifecycle_stage": None, "days_to_renewal": 90.0}, "renewal"),
        ({"lifecycle_stage": "Unknown stage", "days_to_renewal": 200.0}, "adoption"),
    ],
)
def test_profile_selection(kw: dict, profile: str) -> None:
    assert select_profile(healthy_signals(**kw), CARD) == profile


def test_onboarding_profile_weighs_onboarding_measures() -> None:
    slow = healthy_signals(days_since_customer=60.0, time_to_first_value_days=59.0,
                           onboarding_milestones=0.25)  # fmt: skip
    assert score_health(slow, CARD, []).reasons[0].measure in {
        "time_to_first_value_days",
        "onboarding_milestones",
    }
    settled = replace(slow, days_since_customer=400.0)
    assert "time_to_first_value_days" not in score_health(settled, CARD, []).measure_scores


def test_contradiction_flagged_not_averaged() -> None:
    r = score_health(healthy_signals(csat=0.5), CARD, [])
    assert [c["name"] for c in r.contradictions] == ["high_usage_low_csat"]


def test_trend_and_sharp_drop() -> None:
    as_of = date(2026, 6, 1)
    sig = healthy_signals(usage_change_90d=-0.5, active_users_per_seat=0.1, csat=0.6)
    now = score_health(sig, CARD, [])
    history = [PastScore(as_of - timedelta(days=d), 95.0) for d in (7, 14, 21, 28)]
    r = score_health(sig, CARD, history)
    assert r.trend_28d == pytest.approx((now.score or 0) - 95.0)
    assert r.sharp_drop and r.trend_slope is not None and r.trend_slope < 0
    steady = [PastScore(as_of - timedelta(days=d), now.score) for d in (14, 30)]
    r2 = score_health(sig, CARD, steady)
    assert r2.trend_28d == 0 and not r2.sharp_drop
    assert score_health(sig, CARD, [PastScore(as_of - timedelta(days=60), 10.0)]).trend_28d is None


_MEASURES = sorted(CARD.measures)
_values = st.one_of(st.none(), st.floats(-5, 500, allow_nan=False))


@st.composite
def _signals(draw: st.DrawFn) -> AccountSignals:
    values = {m: draw(_values) for m in _MEASURES}
    return AccountSignals(
        account_id=1,
        as_of=date(2026, 6, 1),
        lifecycle_stage=draw(st.sampled_from([None, "Onboarding", "Adoption", "Renewal"])),
        ages={"usage": draw(st.floats(0, 40)), "csat": draw(st.floats(0, 400))},
        **values,
    )


@settings(max_examples=200, deadline=None)
@given(_signals())
def test_score_always_within_0_and_100(sig: AccountSignals) -> None:
    r = score_health(sig, CARD, [])
    assert r.score is None or 0 <= r.score <= 100
    assert r.band != "green" or r.coverage >= CARD.coverage.minimum


@settings(max_examples=300, deadline=None)
@given(_signals(), st.sampled_from(_MEASURES), st.floats(0, 100, allow_nan=False))
def test_improving_a_measure_never_lowers_the_score(
    sig: AccountSignals, measure: str, step: float
) -> None:
    before = score_health(sig, CARD, [])
    value = sig.value(measure)
    if value is None or before.score is None:
        return
    better = (
        value + step if CARD.measures[measure].direction == "higher_is_better" else value - step
    )
    after = score_health(replace(sig, **{measure: better}), CARD, [])
    assert after.score is not None and after.score >= before.score - 1e-9


def test_critical_measure_caps_the_score_and_reasons_still_add_up() -> None:
    measures = CARD.model_dump(mode="json")["measures"]
    change = {
        **measures["usage_change_90d"],
        "normalization": {"kind": "linear", "poor": -0.4, "good": 0.0},
    }
    # the default scorecard sets no cap: one is added to a measure to test the mechanism
    with_cap = {**measures, "usage_change_90d": {**change, "cap": {"below": 0.25, "max_score": 45}}}
    capped = _card(measures=with_cap)
    uncapped = _card(measures={**measures, "usage_change_90d": change})
    collapsing = healthy_signals(usage_change_90d=-0.35)  # norm 0.125 < cap.below 0.25
    r = score_health(collapsing, capped.model_copy(update={"max_reasons": 20}), [])
    plain = score_health(collapsing, uncapped, [])
    assert r.score == pytest.approx((plain.score or 0) * 0.45, abs=0.01) and r.band == "red"
    assert (
        r.reasons[0].measure == "usage_change_90d" and "caps the score at 45" in r.reasons[0].text
    )
    assert sum(x.points_lost for x in r.reasons) == pytest.approx(100 - r.score, abs=0.1)
    milder = score_health(healthy_signals(usage_change_90d=-0.25), capped, [])
    assert milder.score is not None and milder.score > 45  # above the cap threshold: no cap
    stale = healthy_signals(usage_change_90d=-0.35, ages={"usage": 30.0, "csat": 1.0})
    lenient = _card(measures=with_cap, coverage={"minimum": 0.0})
    assert (score_health(stale, lenient, []).score or 0) > 45  # stale: no cap


def test_trend_reference_is_interpolated_between_weekly_snapshots() -> None:
    """Weekly history, daily runs: the score 28 days back moves a day at a time, so the trend
    does not jump by a week's change when the nearest weekly snapshot switches."""
    as_of = date(2026, 6, 1)
    sig = healthy_signals()
    now = score_health(sig, CARD, []).score or 0.0
    weekly = [PastScore(as_of - timedelta(days=d), s) for d, s in ((25, 80.0), (32, 60.0))]
    # 28 days back is 4 days after the 60 and 3 before the 80: 60 + 4/7 * 20
    trends = [
        score_health(replace(sig, as_of=as_of + timedelta(days=k)), CARD, weekly).trend_28d
        for k in range(-3, 4)
    ]
    assert trends[3] == pytest.approx(now - (60.0 + 20.0 * 4 / 7), abs=0.01)
    steps = [b - a for a, b in itertools.pairwise(trends)]  # type: ignore[operator]
    assert all(step == pytest.approx(-20.0 / 7, abs=0.02) for step in steps), steps


def test_trend_reference_on_the_day_or_one_side_only() -> None:
    as_of = date(2026, 6, 1)
    sig = healthy_signals()
    now = score_health(sig, CARD, []).score or 0.0
    exact = [PastScore(as_of - timedelta(days=d), s) for d, s in ((21, 0.0), (28, 70.0), (35, 0.0))]
    assert score_health(sig, CARD, exact).trend_28d == pytest.approx(now - 70.0, abs=0.01)
    one_side = [PastScore(as_of - timedelta(days=24), 50.0)]  # 4 days after, nothing before
    assert score_health(sig, CARD, one_side).trend_28d == pytest.approx(now - 50.0, abs=0.01)
