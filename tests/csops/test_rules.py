"""Phase evaluation, stalls, first-seen dating and the handoff checklist (pure)."""

from __future__ import annotations

import datetime as dt

from csops.config import load_csops
from csops.handoff import check, is_handoff
from csops.onboarding import current_phase, first_seen_entry, stalled

CONFIG = load_csops()
TODAY = dt.date(2026, 6, 1)


def phase_of(**facts: object) -> str:
    return CONFIG.onboarding.phases[current_phase(CONFIG.onboarding, facts)].name


def test_an_account_is_in_the_first_phase_whose_exit_it_has_not_met() -> None:
    assert phase_of() == "Handoff"
    assert phase_of(go_live_date="2026-05-01") == "Quick wins"
    assert phase_of(onboarding_milestones=0.5) == "Quick wins"  # first login: live
    assert phase_of(onboarding_milestones=0.75) == "Adoption"
    assert phase_of(onboarding_milestones=1.0, feature_breadth=5) == "Optimization"
    assert (
        phase_of(onboarding_milestones=1.0, feature_breadth=5, health_score=80, champions=1)
        == "Advocacy"
    )
    # a later phase's exit does not skip an earlier one
    assert phase_of(health_score=90, champions=2) == "Handoff"


def test_a_missing_or_odd_value_never_meets_a_comparison() -> None:
    assert phase_of(onboarding_milestones=None) == "Handoff"
    assert phase_of(onboarding_milestones="lots") == "Handoff"
    assert phase_of(go_live_date="") == "Handoff"


def test_stalled_only_past_the_target_and_never_in_the_last_phase() -> None:
    quick, last = CONFIG.onboarding.phases[1], CONFIG.onboarding.phases[-1]
    assert stalled(quick, TODAY - dt.timedelta(days=45), TODAY) is None
    s = stalled(quick, TODAY - dt.timedelta(days=46), TODAY)
    assert s is not None and (s.days, s.target_days) == (46, 45)
    assert stalled(last, TODAY - dt.timedelta(days=900), TODAY) is None


def test_a_phase_first_seen_is_dated_from_what_is_known_within_the_backdate_limit() -> None:
    since = TODAY - dt.timedelta(days=40)
    assert first_seen_entry(0, {"customer_since": since}, TODAY, None) == since
    live = TODAY - dt.timedelta(days=20)
    assert first_seen_entry(1, {"go_live_date": live.isoformat()}, TODAY, None) == live
    first_data = TODAY - dt.timedelta(days=25)
    assert first_seen_entry(1, {}, TODAY, first_data) == first_data
    assert first_seen_entry(2, {"customer_since": since}, TODAY, first_data) == TODAY
    old = TODAY - dt.timedelta(days=800)  # a long-standing account: counted from first sight
    assert first_seen_entry(0, {"customer_since": old}, TODAY, None) == TODAY


def test_the_handoff_checklist_reads_fields_and_contact_roles() -> None:
    fields = {"success_plan": "https://plans/acme", "objectives": "  ", "go_live_date": "2026-05-01",
              "implementation_notes": "SSO"}  # fmt: skip
    result = check(CONFIG.handoff, fields, ["Champion", "admin"])
    assert result.missing == ["Objectives"] and not result.complete
    assert "Technical contacts" in result.checked  # roles compare without case
    full = check(CONFIG.handoff, {**fields, "objectives": "Cut TTR 20%"}, ["Admin"])
    assert full.complete and full.missing == []


def test_a_handoff_is_a_move_from_implementation_to_support() -> None:
    assert is_handoff(CONFIG.handoff, "Onboarding", "Adoption")
    assert is_handoff(CONFIG.handoff, "implementation", " renewal ")
    assert not is_handoff(CONFIG.handoff, "Adoption", "Renewal")
    assert not is_handoff(CONFIG.handoff, None, "Adoption")
    assert not is_handoff(CONFIG.handoff, "Onboarding", "Churned")
