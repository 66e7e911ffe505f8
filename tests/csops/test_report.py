"""The operations read model: post-handoff escalation rate for complete vs incomplete handoffs,
the phase funnel and stalled list."""

from __future__ import annotations

import datetime as dt

from csops.config import load_csops
from model.tables import Handoff, OnboardingPhase
from reporting.csops import load_operations
from tests.scoring import factories as f

DAY = dt.date(2026, 6, 1)


def test_post_handoff_escalations_are_counted_within_the_window() -> None:
    s = f.make_session()
    config = load_csops()
    accounts = [f.account(s, owner_crm_id="005A", owner_name="Ann") for _ in range(4)]
    for acc, complete in zip(accounts, (True, True, False, False), strict=True):
        s.add(Handoff(account_id=acc.id, handed_off_on=DAY - dt.timedelta(days=100),
                      complete=complete, missing=[] if complete else ["Objectives"]))  # fmt: skip
    f.escalation(s, accounts[0], f.at(DAY - dt.timedelta(days=5)))  # 95 days after: outside
    f.escalation(s, accounts[2], f.at(DAY - dt.timedelta(days=60)))  # 40 days after: counts
    f.escalation(s, accounts[3], f.at(DAY - dt.timedelta(days=101)))  # before the handoff
    s.add(OnboardingPhase(account_id=accounts[1].id, phase="Quick wins", position=1,
                          entered_on=DAY - dt.timedelta(days=50)))  # fmt: skip
    s.add(OnboardingPhase(account_id=accounts[2].id, phase="Adoption", position=2,
                          entered_on=DAY - dt.timedelta(days=10)))  # fmt: skip
    s.flush()
    o = load_operations(s, config, DAY)
    assert o.handoff_kpi["complete"] == {"handoffs": 2, "escalated": 0, "rate": 0.0}
    assert o.handoff_kpi["incomplete"] == {"handoffs": 2, "escalated": 1, "rate": 0.5}
    assert dict((name, n) for name, n, _ in o.funnel) == {
        "Handoff": 0, "Quick wins": 1, "Adoption": 1, "Optimization": 0, "Advocacy": 0,
    }  # fmt: skip
    [stall] = o.stalled
    assert (stall["account_id"], stall["days"], stall["target"]) == (accounts[1].id, 50, 45)
    assert stall["owner"] == "Ann"
    s.close()
