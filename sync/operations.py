"""Customer-success operations in a run: onboarding phases (stalls become owner tasks) and
handoffs (an incomplete one becomes a task for the implementation owner).

Decisions are rows (`onboarding_phases`, `handoffs`, `account_stages`) committed in the same
transaction as the outbox creations that act on them, keyed so each task is queued once:
`ops:stalled:a<account>:<phase>:<entered on>` and `ops:handoff:a<account>:<handed off on>`.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from csops.config import CsOpsConfig
from csops.covers import active_covers
from csops.handoff import check, is_handoff
from csops.onboarding import current_phase, first_seen_entry, stalled
from csops.workload import assignments
from escalation.actions import CreateOwnerTask
from model.account_rows import ops_key_prefix
from model.lifecycle import is_churned_stage
from model.tables import (
    Account,
    AccountStage,
    Contact,
    Handoff,
    HealthSnapshot,
    OnboardingPhase,
    UsageDaily,
    utcnow,
)
from sync.escalate import EscalationSystems, to_requests
from sync.outbox import CreateRequest


def account_facts(acc: Account, snap: HealthSnapshot | None) -> dict[str, Any]:
    """What phase criteria and the checklist read: fields, attributes, signals, score."""
    facts: dict[str, Any] = dict(acc.attributes or {})
    facts.update(
        lifecycle_stage=acc.lifecycle_stage, segment=acc.segment, tier=acc.tier, arr=acc.arr,
        customer_since=acc.customer_since, renewal_date=acc.renewal_date,
    )  # fmt: skip
    if snap is not None:
        for name, raw in (snap.signals or {}).items():  # flat, or {"value": ...} per measure
            facts[name] = raw.get("value") if isinstance(raw, dict) else raw
        facts["health_score"] = snap.score
    return facts


def run_operations(
    session: Session,
    as_of: dt.date,
    config: CsOpsConfig,
    systems: EscalationSystems,
    scope: list[int] | None = None,
) -> tuple[dict[str, int], list[CreateRequest]]:
    """Move phases and notice handoffs for every current account (or those in `scope`, a
    targeted refresh); returns counts and the tasks to queue in the same transaction."""
    chosen = select(Account).where(Account.is_deleted.is_(False))
    if scope is not None:
        chosen = chosen.where(Account.id.in_(scope))
    accounts = session.execute(chosen).scalars()
    newest = session.scalar(
        select(func.max(HealthSnapshot.as_of)).where(HealthSnapshot.as_of <= as_of)
    )
    snaps = {
        s.account_id: s
        for s in session.execute(select(HealthSnapshot).where(HealthSnapshot.as_of == newest)).scalars()
    }  # fmt: skip
    first_usage: dict[int, dt.date] = dict(
        session.execute(  # type: ignore[arg-type]
            select(UsageDaily.account_id, func.min(UsageDaily.day)).group_by(UsageDaily.account_id)
        ).all()
    )
    open_phases = {
        p.account_id: p
        for p in session.execute(
            select(OnboardingPhase).where(OnboardingPhase.exited_on.is_(None))
        ).scalars()
    }
    stages = {s.account_id: s for s in session.execute(select(AccountStage)).scalars()}
    roles: dict[int, list[str | None]] = defaultdict(list)
    for aid, role in session.execute(
        select(Contact.account_id, Contact.role).where(Contact.is_deleted.is_(False))
    ):
        if aid is not None:
            roles[aid].append(role)
    counts: Counter[str] = Counter()
    actions: list[CreateOwnerTask] = []
    for acc in accounts:
        if is_churned_stage(acc.lifecycle_stage):
            continue
        facts = account_facts(acc, snaps.get(acc.id))
        if acc.id in snaps:
            row = _move_phase(session, config, acc, facts, open_phases.get(acc.id), as_of,
                              first_usage.get(acc.id))  # fmt: skip
            counts[f"phase_{row.phase}"] += 1
            if (task := _stall_task(config, acc, row, as_of)) is not None:
                actions.append(task)
                counts["stalled_tasks"] += 1
        if (task := _notice_handoff(session, config, acc, facts, stages.get(acc.id), roles, as_of)) is not None:  # fmt: skip
            actions.append(task)
            counts["handoff_tasks"] += 1
    requests = [r for a in actions for r in to_requests(session, a, None, systems)]
    session.flush()
    return dict(counts), requests


def desired_owners(session: Session, config: CsOpsConfig) -> dict[int, dict[str, Any]]:
    """Opt-in (`workload.write_owner`): the owner the assignment rules give each account whose
    owner they do not allow, as the logical field `account_owner` (none when off)."""
    if not config.workload.write_owner or not config.workload.assignment_rules:
        return {}
    from reporting.csops import book_accounts

    away = frozenset(active_covers(session, utcnow().date()))
    moves = assignments(book_accounts(session), config.workload, away)
    return {m.account_id: {"account_owner": m.to_owner} for m in moves}


def _move_phase(
    session: Session,
    config: CsOpsConfig,
    acc: Account,
    facts: Mapping[str, Any],
    row: OnboardingPhase | None,
    as_of: dt.date,
    first_usage: dt.date | None,
) -> OnboardingPhase:
    """Phases only move forward: a dip in usage does not send an account back to Quick wins."""
    phases = config.onboarding.phases
    position = current_phase(config.onboarding, facts)
    if row is not None:
        position = max(position, min(row.position, len(phases) - 1))
        if phases[position].name == row.phase:
            return row
        row.exited_on = as_of
        entered = as_of
    else:
        entered = first_seen_entry(
            position, facts, as_of, first_usage, config.onboarding.backdate_days
        )
    new = OnboardingPhase(
        account_id=acc.id, phase=phases[position].name, position=position, entered_on=entered
    )
    session.add(new)
    return new


def _stall_task(
    config: CsOpsConfig, acc: Account, row: OnboardingPhase, as_of: dt.date
) -> CreateOwnerTask | None:
    phase = next((p for p in config.onboarding.phases if p.name == row.phase), None)
    if phase is None or row.stalled_on is not None:
        return None
    stall = stalled(phase, row.entered_on, as_of)
    if stall is None:
        return None
    row.stalled_on = as_of
    task = config.onboarding.stalled_task
    return CreateOwnerTask(
        key=f"{ops_key_prefix(acc.id, 'stalled')}{row.phase}:{row.entered_on.isoformat()}"[:255],
        account_id=acc.id,
        subject=f"Onboarding stalled: {acc.name} in {row.phase} for {stall.days} days"[:255],
        description=(
            f"{acc.name} entered the {row.phase} phase on {row.entered_on.isoformat()} and has "
            f"been there {stall.days} days (target {stall.target_days}). Agree the next step "
            f"that moves it on."
        ),
        due_date=as_of + dt.timedelta(days=task.due_days),
        priority=task.priority,
    )


def _notice_handoff(
    session: Session,
    config: CsOpsConfig,
    acc: Account,
    facts: Mapping[str, Any],
    seen: AccountStage | None,
    roles: Mapping[int, list[str | None]],
    as_of: dt.date,
) -> CreateOwnerTask | None:
    """Record the stage; a move from implementation to support is a handoff, checked now."""
    if seen is None:
        session.add(AccountStage(account_id=acc.id, stage=acc.lifecycle_stage, seen_on=as_of))
        return None
    before, after = seen.stage, acc.lifecycle_stage
    seen.stage, seen.seen_on = after, as_of
    if before == after or not is_handoff(config.handoff, before, after):
        return None
    result = check(config.handoff, facts, roles.get(acc.id, []))
    owner = facts.get("implementation_owner") or acc.owner_crm_id
    session.add(
        Handoff(
            account_id=acc.id, handed_off_on=as_of, from_stage=before, to_stage=after,
            complete=result.complete, checked=result.checked, missing=result.missing,
            owner_crm_id=owner,
        )
    )  # fmt: skip
    if result.complete:
        return None
    return CreateOwnerTask(
        key=f"{ops_key_prefix(acc.id, 'handoff')}{as_of.isoformat()}",
        account_id=acc.id,
        owner_crm_id=owner,
        subject=f"Incomplete handoff: {acc.name} — {len(result.missing)} item(s) missing"[:255],
        description=(
            f"{acc.name} moved from {before} to {after} on {as_of.isoformat()} without: "
            + ", ".join(result.missing)
            + ". Document them on the account so support and the CSM have what they need."
        ),
        due_date=as_of + dt.timedelta(days=config.handoff.task_due_days),
        priority="High",
    )
