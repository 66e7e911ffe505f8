"""The operations stage over real SQL: phases move forward only, a stall is one task per stay,
a handoff is noticed once, a targeted refresh touches only its accounts."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from csops.config import load_csops
from model.tables import HealthSnapshot, OnboardingPhase
from sync.escalate import EscalationSystems
from sync.operations import run_operations
from tests.scoring import factories as f

CONFIG = load_csops()
SYSTEMS = EscalationSystems({"crm": "crm"})
DAY = dt.date(2026, 6, 1)


def snap(s, acc, day: dt.date, **signals: float) -> None:
    s.add(HealthSnapshot(account_id=acc.id, as_of=day, score=60.0, band="yellow", signals=signals))
    s.flush()


def run(s, day: dt.date, scope=None):
    counts, requests = run_operations(s, day, CONFIG, SYSTEMS, scope)
    return counts, [r for r in requests if r.kind == "crm_task"]


def phases(s, acc) -> list[tuple[str, dt.date, dt.date | None]]:
    rows = s.scalars(
        select(OnboardingPhase)
        .where(OnboardingPhase.account_id == acc.id)
        .order_by(OnboardingPhase.id)
    )
    return [(p.phase, p.entered_on, p.exited_on) for p in rows]


def test_a_stall_is_one_task_per_stay_and_phases_only_move_forward() -> None:
    s = f.make_session()
    acc = f.account(s, customer_since=DAY - dt.timedelta(days=30), owner_crm_id="005A",
                    crm_id="001A", lifecycle_stage="Onboarding")  # fmt: skip
    snap(s, acc, DAY, onboarding_milestones=0.0)
    _, tasks = run(s, DAY)
    [task] = tasks
    assert task.key == f"ops:stalled:a{acc.id}:Handoff:{(DAY - dt.timedelta(days=30)).isoformat()}"
    assert task.payload["owner_id"] == "005A" and "Handoff for 30 days" in task.payload["subject"]
    assert run(s, DAY + dt.timedelta(days=1))[1] == []  # the same stay: never again
    later = DAY + dt.timedelta(days=2)
    snap(s, acc, later, onboarding_milestones=0.75)  # live and activated: Adoption
    assert run(s, later)[1] == []
    dip = DAY + dt.timedelta(days=3)
    snap(s, acc, dip, onboarding_milestones=0.25)  # usage dips: still Adoption
    run(s, dip)
    assert phases(s, acc) == [
        ("Handoff", DAY - dt.timedelta(days=30), later), ("Adoption", later, None),
    ]  # fmt: skip
    s.close()


def test_a_handoff_is_noticed_once_and_a_refresh_touches_only_its_accounts() -> None:
    s = f.make_session()
    a = f.account(s, lifecycle_stage="Onboarding", owner_crm_id="005A", crm_id="001A",
                  attributes={"implementation_owner": "005I", "success_plan": "https://p"})  # fmt: skip
    b = f.account(s, lifecycle_stage="Onboarding", owner_crm_id="005B", crm_id="001B")
    run(s, DAY)
    a.lifecycle_stage = b.lifecycle_stage = "Adoption"
    counts, tasks = run(s, DAY + dt.timedelta(days=1), scope=[a.id])
    [task] = tasks
    assert counts["handoff_tasks"] == 1 and task.payload["owner_id"] == "005I"
    assert "Objectives" in task.payload["description"]
    assert "Success plan" not in task.payload["description"]
    assert run(s, DAY + dt.timedelta(days=2), scope=[a.id])[1] == []  # noticed once
    [other] = run(s, DAY + dt.timedelta(days=2))[1]  # b's move is seen when b is looked at
    assert other.payload["what_id"] == "001B"
    s.close()
