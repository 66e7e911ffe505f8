"""Replaying the rules over history: volume and churn lead time, without touching live rows."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from escalation.replay import replay
from model.tables import Escalation
from tests.escalation import factories as f
from tests.escalation.factories import AS_OF


def test_replay_measures_volume_and_lead_time_then_rolls_back(session, config):
    churned = f.account(session, arr=0.0, renewal_date=None)
    lost = f.renewal(session, churned, in_days=-5, amount=90_000)
    lost.is_closed, lost.is_won = True, False
    for days_ago, band, score in [
        (70, "green", 80),
        (56, "green", 78),
        (42, "red", 35),
        (28, "red", 30),
        (14, "red", 25),
    ]:
        f.snapshot(session, churned, days_ago, band, score)
    healthy = f.account(session)
    for days_ago in (70, 56, 42, 28, 14, 0):
        f.snapshot(session, healthy, days_ago, "green", 85)
    live = f.account(session)
    f.snapshot(session, live, 0, "red", 20)
    session.add(
        Escalation(
            dedup_key="live", account_id=live.id, rule="band_red", severity="sev3", title="live one"
        )
    )
    session.commit()

    result = replay(session, AS_OF - timedelta(days=70), AS_OF, config, step_days=7)

    assert result.accounts == 3
    assert result.churned == 1 and result.churned_escalated_first == 1
    # red first seen on the step at day -42; churn at day -5: 37 days of warning
    assert result.lead_days == [37]
    assert result.first_rule_before_churn == {"band_red": 1}
    assert result.by_rule["band_red"] == 2  # the churned account (before churn) and `live`
    assert result.escalated_accounts == 2 and result.escalated_accounts_churned == 1
    assert result.per_1000_accounts == round(1000 * result.episodes / 3, 1)
    session.rollback()
    assert session.scalars(select(Escalation.dedup_key)).all() == ["live"]
    assert session.scalar(select(func.count()).select_from(Escalation)) == 1


def test_replay_tells_which_rules_came_before_churn(session, config):
    churned = f.account(session, arr=0.0, renewal_date=None)
    lost = f.renewal(session, churned, in_days=-5, amount=90_000)
    lost.is_closed, lost.is_won = True, False
    f.snapshot(session, churned, 70, "green", 80)
    f.snapshot(session, churned, 42, "red", 35)
    other = f.account(session)
    f.snapshot(session, other, 42, "red", 35)
    result = replay(session, AS_OF - timedelta(days=70), AS_OF, config, step_days=7)
    red = result.per_rule_accounts["band_red"]
    assert (red.accounts, red.churned_after, red.median_lead_days) == (2, 1, 37)
    session.rollback()
