"""Override rates in the audit: weekly shares and directions from snapshots, overrides set,
revoked and expired per week, and each override judged on the renewal decided after it."""

from __future__ import annotations

from datetime import date, timedelta

from model.tables import HealthSnapshot, ScoreAudit
from scoring.override_audit import direction, override_report
from scoring.trust import latest_trust_audit, store_trust_audit
from tests.scoring import factories as f

SUN1, SUN2 = date(2026, 3, 1), date(2026, 3, 8)  # two Sundays: each week's snapshot day
NOW = f.at(date(2026, 3, 10))


def _snap(s, account, day, band, computed, override=None) -> None:
    s.add(HealthSnapshot(account_id=account.id, as_of=day, score=50.0, band=band,
                         computed_score=50.0, computed_band=computed,
                         override_id=None if override is None else override.id))  # fmt: skip


def test_direction_of_an_override() -> None:
    assert direction("red", "green") == "lowered"
    assert direction("green", "yellow") == "raised"
    assert direction("yellow", "yellow") == "same band"
    assert direction("insufficient_data", "red") is None


def _book(s):
    """Ten accounts; week two has three under an override: lowered, raised and score-only."""
    accounts = [f.account(s) for _ in range(10)]
    lowered = f.override(s, accounts[0], f.at(SUN2 + timedelta(days=30)), band="red",
                         created_at=f.at(SUN2 - timedelta(days=2)))  # fmt: skip
    raised = f.override(s, accounts[1], f.at(SUN2 + timedelta(days=30)), band="green",
                        created_at=f.at(SUN2 - timedelta(days=1)))  # fmt: skip
    same = f.override(s, accounts[2], f.at(SUN2 + timedelta(days=30)), score=61.0,
                      created_at=f.at(SUN2 - timedelta(days=1)))  # fmt: skip
    # set in week one, revoked in week two, never in a snapshot: no direction
    gone = f.override(s, accounts[3], f.at(SUN2 + timedelta(days=30)), band="red",
                      created_at=f.at(SUN1 - timedelta(days=3)), revoked=True)  # fmt: skip
    gone.updated_at = f.at(SUN2 - timedelta(days=4))
    # expired in week one
    f.override(s, accounts[4], f.at(SUN1 - timedelta(days=1)), band="red",
               created_at=f.at(SUN1 - timedelta(days=20)))  # fmt: skip
    for a in accounts:
        _snap(s, a, SUN1, "green", "green")
    _snap(s, accounts[0], SUN2, "red", "green", lowered)
    _snap(s, accounts[1], SUN2, "green", "red", raised)
    _snap(s, accounts[2], SUN2, "yellow", "yellow", same)
    for a in accounts[3:]:
        _snap(s, a, SUN2, "yellow", "yellow")
    s.flush()
    return accounts


def test_weekly_override_rates_and_directions() -> None:
    s = f.make_session()
    _book(s)
    report = override_report(s, now=NOW, weeks=8, horizon_days=180)
    one, two = report["weekly"]
    assert (one["day"], two["day"]) == (SUN1.isoformat(), SUN2.isoformat())
    assert (one["week_of"], two["week_of"]) == ("2026-02-23", "2026-03-02")
    assert (one["accounts"], one["overridden"], one["override_rate"]) == (10, 0, 0.0)
    assert (two["accounts"], two["overridden"], two["override_rate"]) == (10, 3, 0.3)
    assert (two["lowered"], two["raised"]) == (1, 1)
    assert (one["set"], one["revoked"], one["expired"]) == (1, 0, 1)
    assert (two["set"], two["revoked"], two["expired"]) == (3, 1, 0)
    assert report["overrides"] == 5 and report["active_now"] == 3
    # a revocation stored before `updated_at` was kept: in no week, and no error
    old = f.override(s, f.account(s), f.at(SUN2), band="red", revoked=True,
                     created_at=f.at(SUN1 - timedelta(days=40)))  # fmt: skip
    old.updated_at = None
    s.flush()
    again = override_report(s, now=NOW, weeks=8, horizon_days=180)["weekly"]
    assert [w["revoked"] for w in again] == [0, 1]


def test_each_override_is_judged_on_the_renewal_after_it() -> None:
    s = f.make_session()
    accounts = _book(s)
    f.opportunity(s, accounts[0], SUN2 + timedelta(days=40), is_closed=True, is_won=False)
    f.opportunity(s, accounts[1], SUN2 + timedelta(days=60), is_closed=True, is_won=False)
    f.opportunity(s, accounts[2], SUN2 + timedelta(days=300), is_closed=True, is_won=True)
    f.opportunity(s, accounts[3], SUN2 - timedelta(days=20), is_closed=True, is_won=True)
    for a in accounts[5:]:
        f.opportunity(s, a, SUN2 + timedelta(days=20), is_closed=True, is_won=True)
    out = override_report(s, now=f.at(SUN2 + timedelta(days=90)), horizon_days=180)["outcomes"]
    by = out["by_direction"]
    # the CSM lowered account 0 and it was lost: right; raised account 1 and it was lost: wrong
    assert by["lowered"] == {"overrides": 1, "judged": 1, "lost": 1, "lost_rate": 1.0}
    assert by["raised"] == {"overrides": 1, "judged": 1, "lost": 1, "lost_rate": 1.0}
    # decided past the horizon: not judged; decided before the override was set: not judged
    assert by["same band"]["judged"] == 0
    assert by["unknown"] == {"overrides": 2, "judged": 0, "lost": 0, "lost_rate": None}
    assert (out["csm_right"], out["score_right"], out["csm_right_share"]) == (1, 1, 0.5)
    every = out["all_renewals"]
    assert every["since"] == (SUN1 - timedelta(days=20)).isoformat()
    assert (every["decided"], every["lost"]) == (8, 2)  # the one past "now" is not counted


def test_no_overrides_no_snapshots() -> None:
    s = f.make_session()
    report = override_report(s, now=NOW)
    assert report == {"weekly": [], "overrides": 0, "active_now": 0, "outcomes": {"judged": 0}}


def test_the_trust_audit_is_stored_and_the_newest_is_read() -> None:
    s = f.make_session()
    _book(s)
    assert latest_trust_audit(s) is None
    first = store_trust_audit(s, now=NOW, horizon_days=180, source="reconcile")
    second = store_trust_audit(s, now=NOW, horizon_days=180, source="score audit")
    assert s.query(ScoreAudit).count() == 2
    newest = latest_trust_audit(s)
    assert newest is not None and newest.id == second.id != first.id
    assert newest.as_of == SUN2 and newest.source == "score audit"
    assert newest.report["overrides"]["weekly"][1]["overridden"] == 3
    assert newest.report["drift"]["available"] is True  # ten accounts: too few to compare
    assert newest.report["drift"]["weeks"][0]["score"] is None
