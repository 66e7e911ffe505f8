"""The SQL behind signals, snapshots and the audit on the migrated schema: SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from model.db import make_engine, make_session_factory, upgrade
from scoring.audit import audit_database
from scoring.config import load_scorecard
from scoring.service import backfill_snapshots, score_accounts
from scoring.signals import compute_signals
from tests.scoring import factories as f

AS_OF = date(2026, 6, 1)
CARD = load_scorecard()


@pytest.fixture()
def s(any_db_url: str):
    upgrade(any_db_url)
    engine = make_engine(any_db_url)
    session = make_session_factory(engine)()
    yield session
    session.close()
    engine.dispose()


def test_signals_snapshots_and_audit(s) -> None:
    lost = AS_OF - timedelta(days=20)
    churner = f.account(s, arr=0.0)
    f.usage(s, churner, AS_OF - timedelta(days=300), 200, active=30, seats=40)
    f.usage(s, churner, AS_OF - timedelta(days=100), 80, active=2, seats=40)
    f.ticket(s, churner, f.at(AS_OF - timedelta(days=60)), priority="urgent", tags=["sync"],
             csat="bad", csat_at=f.at(AS_OF - timedelta(days=59)))  # fmt: skip
    f.opportunity(s, churner, lost, is_closed=True, is_won=False, amount=40_000.0)
    keeper = f.account(s)
    f.usage(s, keeper, AS_OF - timedelta(days=300), 301, active=30, seats=40, logins=90)
    f.contact(s, keeper, is_champion=True, source_created_at=f.at(date(2024, 2, 1)))
    sig = compute_signals(s, AS_OF - timedelta(days=40))
    assert sig[churner.id].usage_change_90d is not None and sig[churner.id].usage_change_90d < -0.5
    assert sig[churner.id].open_urgent_tickets == 1 and sig[churner.id].repeat_issue_tickets == 1
    assert churner.id not in compute_signals(s, AS_OF)  # churned before as_of
    written = backfill_snapshots(s, AS_OF - timedelta(days=280), AS_OF, CARD, step_days=14)
    assert written > 20
    again = score_accounts(s, AS_OF, CARD)
    assert [x.account_id for x in again] == [keeper.id]
    s.flush()
    report = audit_database(s, CARD, bootstrap_rounds=20)
    assert report["churned"] == 1
    assert report["bands"]["red"]["churned"] == 1
    assert report["lead_time"]["median_lead_days"] is not None


def test_past_usage_reads_what_training_derives(s) -> None:
    """The risk model's own-past usage (JSON values, max over a window) on both databases."""
    from model.tables import HealthSnapshot
    from scoring import lagged

    acct = f.account(s)
    history = [
        (AS_OF - timedelta(days=7 * w + 2), {"active_users_per_seat": 0.3 + 0.02 * w,
                                             "dau_mau": 0.5, "logins_per_user": 2 + w % 3})
        for w in range(27)
    ]  # fmt: skip
    for day, signals in history:
        s.add(HealthSnapshot(account_id=acct.id, as_of=day, score=60.0, band="yellow",
                             computed_score=60.0, signals=signals))  # fmt: skip
    s.flush()
    read = lagged.past_usage(s, AS_OF, [acct.id])[acct.id]
    derived = lagged.from_snapshots(history[::-1], AS_OF)
    assert read.quarter_ago == derived.quarter_ago and read.quarter_ago
    assert read.high == pytest.approx(derived.high) and read.high["active_users_per_seat"] > 0.6


def test_repeat_issues_count_tickets_of_equal_tag_lists_together(s) -> None:
    """Tickets are counted per stored tag list in the database: equal lists add up, and a
    tag shared by different lists adds up across them."""
    a = f.account(s)
    f.usage(s, a, AS_OF - timedelta(days=27), 28, active=10, seats=10)
    day = f.at(AS_OF - timedelta(days=10))
    for tags in (["sync"], ["sync"], ["sync", "billing"], ["billing"], ["health_red"]):
        f.ticket(s, a, day, tags=tags)
    sig = compute_signals(s, AS_OF)[a.id]
    assert (sig.repeat_issue_tickets, sig.repeat_issue_tag) == (3, "sync")
