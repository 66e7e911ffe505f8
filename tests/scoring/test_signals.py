"""compute_signals over real SQL on SQLite: values, windows, and no leakage past as_of."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from scoring.queries import usage_through
from scoring.signals import compute_signals
from tests.scoring import factories as f

AS_OF = date(2026, 6, 1)


@pytest.fixture()
def s():
    session = f.make_session()
    yield session
    session.close()


def test_usage_signals_and_baseline_change(s) -> None:
    a = f.account(s)
    # 90-day baseline at 30 active users, then the last 28 days at 18: down 40%
    start = AS_OF - timedelta(days=117)
    f.usage(s, a, start, 90, active=30, seats=40, features=4)
    f.usage(s, a, AS_OF - timedelta(days=27), 28, active=18, seats=40, features=4)
    sig = compute_signals(s, AS_OF)[a.id]
    assert sig.usage_change_90d == pytest.approx(-0.4)
    assert sig.active_users_per_seat == pytest.approx(18 / 40)
    assert sig.dau_mau == pytest.approx(1.0)
    assert sig.logins_per_user == pytest.approx(2.0)
    assert sig.feature_breadth == 4
    assert sig.seats == 40
    assert sig.ages["usage"] == 0


def test_days_without_usage_count_as_zero_and_workspaces_add_up(s) -> None:
    a = f.account(s)
    f.usage(s, a, AS_OF - timedelta(days=27), 14, active=10, seats=20, workspace="w1")
    f.usage(s, a, AS_OF - timedelta(days=27), 14, active=10, seats=20, workspace="w2")
    other = f.account(s)
    f.usage(s, other, AS_OF, 1, active=1)  # the feed is fresh up to as_of
    sig = compute_signals(s, AS_OF)[a.id]
    # 20 users a day on 14 of 28 days over 40 seats
    assert sig.active_users_per_seat == pytest.approx(10 / 40)
    assert sig.dau_mau == pytest.approx(0.5)
    assert sig.ages["usage"] == 0


def test_the_day_in_progress_is_left_out_of_the_usage_windows(s) -> None:
    today = datetime.now(UTC).date()
    a = f.account(s)
    f.usage(s, a, today - timedelta(days=28), 28, active=20, seats=40)  # through yesterday
    f.usage(s, a, today, 1, active=2, seats=40)  # today's partial row, refreshed hourly
    sig = compute_signals(s, today)[a.id]
    assert sig.active_users_per_seat == pytest.approx(20 / 40)  # not dragged down by today
    assert sig.dau_mau == pytest.approx(1.0)
    assert sig.ages["usage"] == 0  # the feed itself is current
    assert usage_through(today) == today - timedelta(days=1)
    assert usage_through(AS_OF, today=AS_OF + timedelta(days=1)) == AS_OF  # a closed day counts


def test_future_rows_are_invisible(s) -> None:
    a = f.account(s)
    f.usage(s, a, AS_OF - timedelta(days=27), 28, active=10, seats=20)
    f.usage(s, a, AS_OF + timedelta(days=1), 10, active=20, seats=20)
    f.ticket(s, a, f.at(AS_OF + timedelta(days=1)), priority="urgent")
    f.ticket(
        s, a, f.at(AS_OF - timedelta(days=5)), csat="bad", csat_at=f.at(AS_OF + timedelta(days=2))
    )
    f.contact(s, a, is_champion=True, source_created_at=f.at(AS_OF + timedelta(days=3)))
    f.opportunity(s, a, AS_OF + timedelta(days=5), is_closed=True, is_won=False)
    sig = compute_signals(s, AS_OF)[a.id]
    assert sig.active_users_per_seat == pytest.approx(0.5)
    assert sig.open_urgent_tickets == 0
    assert sig.csat is None
    assert sig.champions == 0
    assert sig.days_to_renewal == 5  # it was still open on as_of


def test_support_signals(s) -> None:
    a = f.account(s)
    f.usage(s, a, AS_OF - timedelta(days=27), 28, active=10, seats=10)
    day = AS_OF - timedelta(days=10)
    f.ticket(
        s, a, f.at(day), priority="urgent", tags=["sso", "health_red"], first_reply_minutes=120
    )
    f.ticket(s, a, f.at(day), tags=["sso"], first_reply_minutes=60, status="solved",
             solved_at=f.at(day + timedelta(days=1)), full_resolution_minutes=1440, reopens=1,
             csat="good", csat_at=f.at(day + timedelta(days=2)))  # fmt: skip
    f.ticket(s, a, f.at(day), tags=["sso"], status="solved", solved_at=f.at(day),
             full_resolution_minutes=60, csat="bad", csat_at=f.at(day))  # fmt: skip
    f.ticket(s, a, f.at(AS_OF - timedelta(days=200)), priority="urgent", status="solved",
             solved_at=f.at(AS_OF - timedelta(days=199)))  # fmt: skip
    f.escalation(s, a, f.at(day))
    f.escalation(s, a, f.at(day), dedup_key="x", state="resolved", resolved_at=f.at(day))
    sig = compute_signals(s, AS_OF)[a.id]
    assert sig.tickets_per_seat_90d == pytest.approx(0.3)
    assert sig.open_urgent_tickets == 1
    assert sig.repeat_issue_tickets == 3 and sig.repeat_issue_tag == "sso"
    assert sig.first_reply_hours == pytest.approx(1.5)
    assert sig.resolution_hours == pytest.approx(12.5)
    assert sig.reopen_rate == pytest.approx(0.5)
    assert sig.csat == pytest.approx(0.5) and sig.csat_responses == 2
    assert sig.open_escalations == 1


def test_the_engineering_tickets_pulsehub_opened_are_not_the_customers_support_load(s) -> None:
    """An escalation's ticket is filed under the customer's organization and pulled back with
    its tickets; counted, it would lower the health that opened it (an open urgent ticket,
    more volume) and the next run would escalate on its own ticket."""
    a = f.account(s)
    f.usage(s, a, AS_OF - timedelta(days=27), 28, active=10, seats=10)
    day = AS_OF - timedelta(days=5)
    f.ticket(s, a, f.at(day), tags=["sso"])
    own = f.ticket(s, a, f.at(day), priority="urgent", tags=["sso"], source="helpdesk-b")
    twin = f.ticket(
        s,
        a,
        f.at(day),
        priority="urgent",
        tags=["sso"],
        source="zendesk",
        helpdesk_id=own.helpdesk_id,
    )  # same id in another instance: the customer's
    sig = compute_signals(s, AS_OF)[a.id]
    assert sig.open_urgent_tickets == 2 and sig.tickets_per_seat_90d == pytest.approx(0.3)

    f.escalation(s, a, f.at(day), helpdesk_ticket_id=own.helpdesk_id, helpdesk_source="helpdesk-b")
    sig = compute_signals(s, AS_OF)[a.id]
    assert sig.open_urgent_tickets == 1  # the twin, not pulsehub's own ticket
    assert sig.tickets_per_seat_90d == pytest.approx(0.2)
    assert twin.helpdesk_id == own.helpdesk_id


def test_repeat_issue_ties_go_to_the_first_tag_by_name(s) -> None:
    """Tickets tagged both `sso` and `login` tie: the same tag every run, whatever set order."""
    a = f.account(s)
    f.usage(s, a, AS_OF - timedelta(days=27), 28, active=10, seats=10)
    day = AS_OF - timedelta(days=10)
    for tags in (["sso", "login"], ["login", "sso"], ["sso", "login", "zzz"]):
        f.ticket(s, a, f.at(day), tags=tags)
    sig = compute_signals(s, AS_OF)[a.id]
    assert (sig.repeat_issue_tickets, sig.repeat_issue_tag) == (3, "login")


def test_champion_change_and_commercial(s) -> None:
    a = f.account(s, customer_since=date(2023, 1, 1), arr=100_000.0)
    f.contact(s, a, is_champion=True, source_created_at=f.at(date(2023, 2, 1)))
    f.contact(s, a, is_champion=True, is_deleted=True, source_created_at=f.at(date(2023, 2, 1)),
              source_modstamp=f.at(AS_OF - timedelta(days=20)))  # fmt: skip
    f.opportunity(s, a, date(2024, 6, 1), is_closed=True, is_won=True, amount=100_000.0)
    f.opportunity(s, a, date(2025, 6, 1), is_closed=True, is_won=True, amount=90_000.0)
    f.opportunity(s, a, AS_OF - timedelta(days=30), type="Downgrade", is_closed=True, is_won=True,
                  amount=5_000.0)  # fmt: skip
    f.opportunity(s, a, AS_OF + timedelta(days=60))
    sig = compute_signals(s, AS_OF)[a.id]
    assert sig.champions == 1 and sig.champion_change_90d == 1
    assert sig.arr_change_pct == pytest.approx(-0.1)
    assert sig.expansion_pct == pytest.approx(-5_000 / 90_000), "against the latest contract"
    assert sig.days_to_renewal == 60
    before = compute_signals(s, AS_OF - timedelta(days=40))[a.id]
    assert before.champions == 2 and before.champion_change_90d == 0


def test_a_replay_does_not_see_arr_zeroed_by_a_later_loss(s) -> None:
    lost, kept = (f.account(s, customer_since=date(2023, 1, 1), arr=arr) for arr in (0.0, 80_000.0))
    for a in (lost, kept):
        f.opportunity(s, a, date(2025, 6, 1), is_closed=True, is_won=True, amount=80_000.0)
        f.opportunity(s, a, AS_OF - timedelta(days=30), type="Expansion", is_closed=True,
                      is_won=True, amount=8_000.0)  # fmt: skip
    f.opportunity(s, lost, AS_OF + timedelta(days=20), is_closed=True, is_won=False)
    sig = compute_signals(s, AS_OF)
    assert sig[lost.id].expansion_pct == sig[kept.id].expansion_pct == pytest.approx(0.1)


def test_churned_and_future_customers_are_not_scored(s) -> None:
    gone = f.account(s)
    f.opportunity(s, gone, AS_OF - timedelta(days=1), is_closed=True, is_won=False)
    later = f.account(s, customer_since=AS_OF + timedelta(days=1))
    kept = f.account(s)
    out = compute_signals(s, AS_OF)
    assert gone.id not in out and later.id not in out and kept.id in out
    assert gone.id in compute_signals(s, AS_OF - timedelta(days=2))
    assert set(compute_signals(s, AS_OF, [kept.id])) == {kept.id}


def test_an_account_salesforce_marks_churned_is_not_scored_today(s) -> None:
    today = date.today()  # the stage is today's value: it decides only for current scoring
    left = f.account(s, lifecycle_stage="Former Customer")
    kept = f.account(s, lifecycle_stage="Adoption")
    out = compute_signals(s, today)
    assert left.id not in out and kept.id in out
    assert left.id in compute_signals(s, today - timedelta(days=90))  # history is replayed


def test_onboarding_time_to_value_and_milestones(s) -> None:
    a = f.account(s, customer_since=AS_OF - timedelta(days=40))
    ramp = [0] * 10 + [2] * 10 + [10] * 21  # 10 of 40 seats (a quarter) on day 20
    f.usage(s, a, AS_OF - timedelta(days=40), 41, active=ramp, seats=40, features=3)
    sig = compute_signals(s, AS_OF)[a.id]
    assert sig.time_to_first_value_days == 20
    assert sig.onboarding_milestones == pytest.approx(0.75)
    assert sig.days_since_customer == 40


def test_time_to_first_value_counts_from_first_usage_data_on_an_old_cohort(s) -> None:
    # signed two years ago; the usage feed only starts 60 days ago (an older cohort)
    a = f.account(s, customer_since=AS_OF - timedelta(days=730))
    ramp = [1] * 15 + [10] * 45  # a quarter of 40 seats active from the 16th day of data
    f.usage(s, a, AS_OF - timedelta(days=60), 60, active=ramp, seats=40, features=3)
    sig = compute_signals(s, AS_OF)[a.id]
    assert sig.time_to_first_value_days == 15  # not ~700 days from customer-since


def test_value_reached_before_the_data_began_is_unknown(s) -> None:
    a = f.account(s, customer_since=AS_OF - timedelta(days=730))
    f.usage(s, a, AS_OF - timedelta(days=60), 60, active=20, seats=40, features=3)
    assert compute_signals(s, AS_OF)[a.id].time_to_first_value_days is None
    fresh = f.account(s, customer_since=AS_OF - timedelta(days=65))  # data from week one
    f.usage(s, fresh, AS_OF - timedelta(days=60), 60, active=20, seats=40, features=3)
    assert compute_signals(s, AS_OF)[fresh.id].time_to_first_value_days == 0


def test_no_usage_source_leaves_usage_missing(s) -> None:
    a = f.account(s)
    sig = compute_signals(s, AS_OF)[a.id]
    assert sig.active_users_per_seat is None and sig.usage_change_90d is None
    assert sig.open_urgent_tickets is None  # no ticket source at all
    assert sig.time_to_first_value_days is None


def test_champion_flag_changed_later_is_unknown_not_a_leaked_zero(s) -> None:
    a = f.account(s)
    # today's data: the champion was unflagged 10 days after as_of
    f.contact(s, a, is_champion=False, source_created_at=f.at(date(2024, 2, 1)),
              source_modstamp=f.at(AS_OF + timedelta(days=10)))  # fmt: skip
    assert compute_signals(s, AS_OF)[a.id].champions is None
    assert compute_signals(s, AS_OF + timedelta(days=11))[a.id].champions == 0
