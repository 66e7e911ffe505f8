"""Onboarding stalls and incomplete handoffs reach the sandbox's crm as tasks exactly once, over
real loopback HTTP; a dry run shows them and writes nothing; covers receive tasks while away."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from model.tables import Account, CsmCover, Handoff, OnboardingPhase, OutboxItem
from tests.sandbox_runtime import sandbox_runtime


@pytest.fixture
def rt(tmp_path):
    with sandbox_runtime(f"sqlite:///{tmp_path / 'ops.db'}", accounts=80, seed=5) as runtime:
        yield runtime


def tasks(sb, what_id: str) -> list[dict]:
    """The onboarding stage's tasks on one account (renewal and access reviews open others)."""
    return [
        w for w in sb.writes
        if w["kind"] == "task_created" and w["changes"].get("WhatId") == what_id
        and "[pulsehub:ops:" in w["changes"].get("Description", "")
        and not any(f"[pulsehub:ops:{k}" in w["changes"]["Description"]
                    for k in ("access_review", "renewal_review"))
    ]  # fmt: skip


def test_a_stalled_onboarding_is_one_task_and_the_phase_is_written_back(rt) -> None:
    sb = rt.sb
    stalled_id = sb.world.truth["csops"]["stalled_onboarding"]
    dry = rt.sync(dry_run=True)  # shows the stall task and the phase field, writes nothing
    assert dry.errors == [] and dry.planned.get("crm_task", 0) >= 1
    assert any(c.field == "onboarding_phase" for w in dry.plan_sample for c in w.changes)
    assert sb.writes == []
    with rt.factory() as s:
        assert s.execute(select(OnboardingPhase)).first() is None
        assert not s.execute(select(OutboxItem).where(OutboxItem.key.like("ops:%"))).first()
    assert rt.sync().errors == []
    [task] = tasks(sb, stalled_id)
    assert task["changes"]["Subject"].startswith("Onboarding stalled:")
    assert " in Handoff for " in task["changes"]["Subject"]
    phases = [
        w["changes"]["Onboarding_Phase__c"]
        for w in sb.writes
        if w["kind"] == "account_fields" and "Onboarding_Phase__c" in w["changes"]
    ]
    assert len(phases) > 40 and {"Handoff", "Quick wins"} <= set(phases)
    assert sb.world.sf["Account"][stalled_id]["Onboarding_Phase__c"] == "Handoff"
    with rt.factory() as s:
        acc = s.execute(select(Account).where(Account.crm_id == stalled_id)).scalar_one()
        row = s.execute(
            select(OnboardingPhase).where(OnboardingPhase.account_id == acc.id)
        ).scalar_one()
        assert row.entered_on == acc.customer_since  # dated from the contract, not first sight
        assert row.stalled_on is not None
    before = len([w for w in sb.writes if w["kind"] == "task_created"])
    assert rt.sync().errors == []
    assert len([w for w in sb.writes if w["kind"] == "task_created"]) == before  # once only


def _move_to_support(sb, crm_id: str) -> None:
    acc = sb.world.sf["Account"][crm_id]
    now = sb.world.clock.now()
    acc.update(Lifecycle_Stage__c="Adoption", LastModifiedDate=now, SystemModstamp=now)


def test_an_incomplete_handoff_is_one_task_for_the_cover_of_the_implementation_owner(rt) -> None:
    sb = rt.sb
    crm_id = sb.world.truth["csops"]["incomplete_handoff"]
    impl_owner = sb.world.sf["Account"][crm_id]["Implementation_Owner__c"]
    assert rt.sync().errors == []  # first sight: the stage is recorded, no handoff yet
    assert not tasks(sb, crm_id)
    _move_to_support(sb, crm_id)
    writes = len(sb.writes)
    dry = rt.sync(dry_run=True)
    assert dry.planned.get("crm_task", 0) >= 1  # the dry run shows the task ...
    assert len(sb.writes) == writes  # ... and writes nothing
    with rt.factory() as s:
        assert s.execute(select(Handoff)).first() is None
        assert not s.execute(select(OutboxItem).where(OutboxItem.key.like("ops:handoff:%"))).first()
        other = next(u for u in sorted(sb.world.sf["User"]) if u != impl_owner)
        today = dt.date.today()
        s.add(CsmCover(owner_crm_id=impl_owner, cover_crm_id=other,
                       starts_on=today - dt.timedelta(days=1), ends_on=today + dt.timedelta(days=6)))  # fmt: skip
        s.commit()
    assert rt.sync().errors == []
    [task] = tasks(sb, crm_id)
    assert task["changes"]["Subject"].startswith("Incomplete handoff:")
    assert "Success plan" in task["changes"]["Description"]
    assert task["changes"]["OwnerId"] == other  # the implementation owner is away: the cover
    with rt.factory() as s:
        [handoff] = s.execute(select(Handoff)).scalars().all()
        assert not handoff.complete
        assert handoff.missing == ["Success plan", "Implementation notes"]
        assert handoff.owner_crm_id == impl_owner
    assert rt.sync().errors == []
    assert len(tasks(sb, crm_id)) == 1
