"""The dashboard's figures on small hand-built data, where every expected number is known."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from model.db import make_engine, make_session_factory, transaction, upgrade
from model.tables import Account, Escalation, HealthSnapshot, Ticket
from reporting.accounts import list_accounts, load_account
from reporting.adoption import load_adoption
from reporting.overview import load_overview
from reporting.support import load_support

DAY = dt.date(2026, 6, 30)
NOON = dt.datetime(2026, 6, 24, 12, 0, tzinfo=dt.UTC)  # Wednesday of the week starting Jun 22


def snap(aid: int, days_ago: int, band: str, score: float | None, **kw) -> HealthSnapshot:
    return HealthSnapshot(
        account_id=aid, as_of=DAY - dt.timedelta(days=days_ago), band=band, score=score, **kw
    )


def build(session) -> None:
    session.add_all([
        Account(id=1, name="Alpha", arr=100_000, segment="enterprise", renewal_date=DAY + dt.timedelta(days=10),
                customer_since=dt.date(2026, 3, 5)),
        Account(id=2, name="Beta", arr=20_000, segment="smb", renewal_date=DAY + dt.timedelta(days=45),
                customer_since=dt.date(2026, 3, 20)),
        Account(id=3, name="Gamma", arr=5_000, segment="smb", renewal_date=DAY + dt.timedelta(days=80)),
        Account(id=4, name="Deleted", arr=999_000, segment="smb", is_deleted=True, renewal_date=DAY),
        Account(id=5, name="Stale", arr=1_000, segment="smb"),
    ])  # fmt: skip
    session.flush()
    session.add_all([
        snap(1, 7, "red", 40, risk_level="high"), snap(1, 0, "green", 80, risk_level="low", renewal_risk=0.1,
             signals={"dau_mau": 0.5, "onboarding_milestones": 1.0, "time_to_first_value_days": 10.0, "feature_breadth": 4.0}),
        snap(2, 7, "red", 30), snap(2, 0, "red", 20, risk_level="high", renewal_risk=0.8,
             signals={"dau_mau": 0.2, "onboarding_milestones": 0.5, "time_to_first_value_days": 30.0, "feature_breadth": 2.0}),
        snap(4, 0, "red", 10, risk_level="high"),
        snap(5, 3, "yellow", 60),  # not scored on the latest day: its newest snapshot still counts
    ])  # fmt: skip
    session.add_all([
        Escalation(dedup_key="a", account_id=1, rule="r", severity="sev2", state="open", title="t"),
        Escalation(dedup_key="b", account_id=2, rule="r", severity="sev1", state="resolved", title="t"),
        Escalation(dedup_key="c", account_id=2, rule="r", severity="sev4", state="acknowledged", title="t",
                   opened_at=NOON),
    ])  # fmt: skip
    # what write-back puts on every open ticket: pulsehub's own tags are never a repeat issue
    own = ["health_red", "renewal_risk_high"]
    t = dict(status="solved", updated_at=NOON, reopens=0)
    session.add_all([
        Ticket(source="zendesk", helpdesk_id=1, account_id=2, created_at=NOON, first_reply_minutes=60, full_resolution_minutes=600,
               replies=1, csat="good", tags=["sso", *own], **t),
        Ticket(source="zendesk", helpdesk_id=2, account_id=2, created_at=NOON + dt.timedelta(hours=1), first_reply_minutes=120,
               full_resolution_minutes=1200, replies=3, csat="bad", tags=["sso", "billing", *own], **t),
        Ticket(source="zendesk", helpdesk_id=3, account_id=1, created_at=NOON, first_reply_minutes=30, replies=0, status="open",
               updated_at=NOON, tags=["api"]),
        Ticket(source="zendesk", helpdesk_id=4, account_id=2, created_at=NOON + dt.timedelta(hours=2), status="open", updated_at=NOON,
               tags=["sso", *own]),  # Beta's third sso ticket: a repeat issue
    ])  # fmt: skip


@pytest.fixture
def session(any_db_url):
    upgrade(any_db_url)
    engine = make_engine(any_db_url)
    factory = make_session_factory(engine)
    with transaction(factory) as s:
        build(s)
    with factory() as s:
        yield s
    engine.dispose()


def test_overview_counts_latest_snapshot_per_live_account(session):
    ov = load_overview(session)
    assert ov.as_of == DAY
    assert ov.accounts == 4
    assert ov.bands == {"green": 1, "yellow": 1, "red": 1, "insufficient_data": 0}
    assert ov.unscored == 1
    assert ov.arr_by_band == {
        "green": 100_000,
        "yellow": 1_000,
        "red": 20_000,
        "insufficient_data": 0,
    }
    assert ov.escalations == {"sev1": 0, "sev2": 1, "sev3": 0, "sev4": 1}


def test_renewal_windows_are_cumulative_with_risk(session):
    buckets = {b.days: b for b in load_overview(session).renewals}
    assert [buckets[d].accounts for d in (30, 60, 90)] == [1, 2, 3]
    assert buckets[30].by_risk["low"] == 1
    assert buckets[60].by_risk == {"high": 1, "medium": 0, "low": 1, "unknown": 0}
    assert buckets[90].by_risk["unknown"] == 1
    assert buckets[90].arr == 125_000 and buckets[90].arr_at_risk == 20_000


def test_band_movers_compare_with_a_week_ago(session):
    ov = load_overview(session)
    assert ov.movers_total == 1
    assert [(m["name"], m["from_band"], m["to_band"]) for m in ov.movers] == [
        ("Alpha", "red", "green")
    ]
    trend = dict(ov.band_trend)
    assert trend[DAY]["red"] == 1  # the deleted account's snapshot is not counted
    assert trend[DAY - dt.timedelta(days=7)]["red"] == 2


def test_account_list_filters_sorts_and_counts(session):
    red = list_accounts(session, band="red")
    assert red.total == 1 and red.rows[0]["name"] == "Beta"
    assert list_accounts(session, band="unscored").rows[0]["name"] == "Gamma"
    by_arr = list_accounts(session, sort="arr", desc=False)
    assert [r["name"] for r in by_arr.rows] == ["Stale", "Gamma", "Beta", "Alpha"]
    assert list_accounts(session, q="alp").total == 1
    assert list_accounts(session, segment="smb").total == 3


def test_account_detail(session):
    d = load_account(session, 2)
    assert d.latest.score == 20 and [h[2] for h in d.history] == ["red", "red"]
    assert d.ticket_counts == {"solved": 2, "open": 1}
    assert load_account(session, 999) is None


def test_support_kpis(session):
    k = load_support(session, DAY)
    week = dt.date(2026, 6, 22)
    w = k.by_week[week]
    assert w["first_reply_h"] == pytest.approx(70 / 60)  # (60 + 120 + 30) / 3 minutes
    assert k.total["resolution_h"] == pytest.approx(15)  # (600 + 1200) / 2 minutes
    assert k.total["fcr"] == pytest.approx(0.5)  # one of two solved had one reply and no reopen
    # two of the week's four tickets are open: its resolution figures would count only the
    # quickly solved ones, so the weekly series leaves them out until 95% are solved
    assert w["resolution_h"] is None and w["fcr"] is None
    assert w["csat"] == pytest.approx(0.5)
    assert w["tickets_per_customer"] == pytest.approx(4 / 4)
    assert w["escalations_per_customer"] == pytest.approx(1 / 4)
    assert w["repeat_per_customer"] == pytest.approx(1 / 4)  # Beta's sso issue (3 tickets)
    smb = k.by_segment["smb"]
    assert smb["tickets_per_customer"] == pytest.approx(3 / 3)
    assert smb["repeat_per_customer"] == pytest.approx(1 / 3)


def test_a_weeks_resolution_figures_are_charted_once_its_tickets_are_solved(session):
    for ticket in session.scalars(select(Ticket).where(Ticket.status == "open")):
        ticket.status, ticket.full_resolution_minutes, ticket.replies = "solved", 3000, 1
    session.flush()
    w = load_support(session, DAY).by_week[dt.date(2026, 6, 22)]
    assert w["resolution_h"] == pytest.approx((600 + 1200 + 3000 + 3000) / 4 / 60)
    assert w["fcr"] == pytest.approx(3 / 4)


def test_adoption_by_cohort_and_segment(session):
    a = load_adoption(session, DAY)
    march = next(c for c in a.cohorts if c.cohort == "2026-03")
    assert march.accounts == 2
    assert march.ttfv_days == pytest.approx(20)
    assert march.activated == pytest.approx(0.5) and march.onboarded == pytest.approx(0.5)
    assert a.by_segment["enterprise"]["dau_mau"] == pytest.approx(0.5)
    assert a.dau_mau_trend[-1] == (DAY, pytest.approx(0.35))
