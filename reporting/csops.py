"""Read models for the operations page: onboarding funnel, stalls and time to first value;
handoff completeness and post-handoff escalations; CSM workload, suggestions and covers."""

from __future__ import annotations

import datetime as dt
import statistics
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from csops.config import CsOpsConfig
from csops.covers import active_covers, upcoming_covers
from csops.workload import BookAccount, Move, OwnerLoad, assignments, loads, suggest_moves
from model.lifecycle import is_churned_stage
from model.tables import Account, Escalation, Handoff, OnboardingPhase
from reporting.common import latest_snapshots, signal_column

OPEN = ("open", "acknowledged")


@dataclass
class Operations:
    funnel: list[tuple[str, int, int | None]]  # phase, accounts, target days
    stalled: list[dict[str, Any]]
    ttfv_median: float | None
    ttfv_accounts: int
    handoffs: list[dict[str, Any]]
    handoff_kpi: dict[str, dict[str, Any]]  # complete / incomplete -> handoffs, escalated, rate
    workload: list[OwnerLoad]
    target_load: float
    moves: list[Move]
    assignments: list[Move]  # owners the assignment rules do not allow, and who should own
    write_owner: bool
    arr_unit: float | None
    covers: list[dict[str, Any]]
    names: dict[str, str]  # owner crm id -> name


def load_operations(session: Session, config: CsOpsConfig, day: dt.date) -> Operations:
    names = _owner_names(session)
    funnel, stalled = _onboarding(session, config, day, names)
    ttfv = [float(v) for v in _ttfv(session) if v is not None]
    handoffs, kpi = _handoffs(session, config, names)
    book = book_accounts(session)
    rows, target = loads(book, config.workload)
    away = frozenset(active_covers(session, day))
    covers = [
        {"owner": names.get(c.owner_crm_id, c.owner_crm_id),
         "cover": names.get(c.cover_crm_id, c.cover_crm_id), "from": c.starts_on,
         "to": c.ends_on, "note": c.note or "", "active": c.starts_on <= day <= c.ends_on}
        for c in upcoming_covers(session, day)
    ]  # fmt: skip
    return Operations(
        funnel, stalled, statistics.median(ttfv) if ttfv else None, len(ttfv), handoffs, kpi,
        rows, target, suggest_moves(book, config.workload, away),
        assignments(book, config.workload, away), config.workload.write_owner, config.workload.arr_unit, covers, names,
    )  # fmt: skip


def _owner_names(session: Session) -> dict[str, str]:
    rows = session.execute(
        select(Account.owner_crm_id, func.max(Account.owner_name)).group_by(Account.owner_crm_id)
    ).all()
    return {o: n or o for o, n in rows if o}


def _onboarding(
    session: Session, config: CsOpsConfig, day: dt.date, names: dict[str, str]
) -> tuple[list[tuple[str, int, int | None]], list[dict[str, Any]]]:
    targets = {p.name: p.target_days for p in config.onboarding.phases}
    rows = session.execute(
        select(OnboardingPhase, Account.name, Account.owner_crm_id, Account.lifecycle_stage)
        .join(Account, Account.id == OnboardingPhase.account_id)
        .where(OnboardingPhase.exited_on.is_(None), Account.is_deleted.is_(False))
    ).all()
    counts: dict[str, int] = {}
    stalled = []
    for phase, name, owner, stage in rows:
        if is_churned_stage(stage):
            continue
        counts[phase.phase] = counts.get(phase.phase, 0) + 1
        target = targets.get(phase.phase)
        age = (day - phase.entered_on).days
        if target is not None and age > target:
            stalled.append({"account_id": phase.account_id, "account": name,
                            "owner": names.get(owner or "", owner or ""), "phase": phase.phase,
                            "entered_on": phase.entered_on, "days": age, "target": target,
                            "task": phase.stalled_on})  # fmt: skip
    funnel = [(p.name, counts.get(p.name, 0), p.target_days) for p in config.onboarding.phases]
    return funnel, sorted(stalled, key=lambda s: -s["days"])


def _ttfv(session: Session) -> list[Any]:
    latest = latest_snapshots()
    col = signal_column(session, "time_to_first_value_days", latest)
    return list(session.execute(select(col).select_from(latest)).scalars())


def _handoffs(
    session: Session, config: CsOpsConfig, names: dict[str, str]
) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]]]:
    window = dt.timedelta(days=config.handoff.escalation_window_days)
    rows = session.execute(
        select(Handoff, Account.name).join(Account, Account.id == Handoff.account_id)
        .order_by(Handoff.handed_off_on.desc())
    ).all()  # fmt: skip
    opened: dict[int, list[dt.date]] = {}
    for aid, at in session.execute(select(Escalation.account_id, Escalation.opened_at)):
        opened.setdefault(aid, []).append(at.date())
    out: list[dict[str, Any]] = []
    kpi: dict[str, dict[str, Any]] = {
        k: {"handoffs": 0, "escalated": 0} for k in ("complete", "incomplete")
    }
    for h, name in rows:
        after = [d for d in opened.get(h.account_id, []) if h.handed_off_on <= d <= h.handed_off_on + window]  # fmt: skip
        k = kpi["complete" if h.complete else "incomplete"]
        k["handoffs"] += 1
        k["escalated"] += bool(after)
        out.append({"account_id": h.account_id, "account": name, "on": h.handed_off_on,
                    "from": h.from_stage, "to": h.to_stage, "complete": h.complete,
                    "missing": h.missing, "owner": names.get(h.owner_crm_id or "", h.owner_crm_id),
                    "escalations": len(after)})  # fmt: skip
    for k in kpi.values():
        k["rate"] = k["escalated"] / k["handoffs"] if k["handoffs"] else None
    return out, kpi


def book_accounts(session: Session) -> list[BookAccount]:
    """Every current, paying account with an owner, as the workload model weighs it."""
    open_esc = dict(
        session.execute(  # type: ignore[arg-type]
            select(Escalation.account_id, func.count())
            .where(Escalation.state.in_(OPEN))
            .group_by(Escalation.account_id)
        ).all()
    )
    rows = session.execute(
        select(Account).where(Account.is_deleted.is_(False), Account.owner_crm_id.is_not(None))
    ).scalars()
    return [
        BookAccount(a.id, a.name, a.owner_crm_id or "", a.segment, a.tier,
                    (a.attributes or {}).get("region"), a.arr or 0.0, open_esc.get(a.id, 0))
        for a in rows
        if not is_churned_stage(a.lifecycle_stage) and (a.arr or 0) > 0
    ]  # fmt: skip


def account_onboarding(session: Session, account_id: int) -> dict[str, Any]:
    """One account's onboarding phases (milestone dates) and handoffs, oldest first."""
    phases = session.execute(
        select(OnboardingPhase).where(OnboardingPhase.account_id == account_id)
        .order_by(OnboardingPhase.entered_on, OnboardingPhase.id)
    ).scalars()  # fmt: skip
    handoffs = session.execute(
        select(Handoff).where(Handoff.account_id == account_id).order_by(Handoff.handed_off_on)
    ).scalars()
    return {
        "phases": [{"phase": p.phase, "entered": p.entered_on, "exited": p.exited_on,
                    "stalled": p.stalled_on} for p in phases],
        "handoffs": [{"on": h.handed_off_on, "complete": h.complete, "missing": h.missing}
                     for h in handoffs],
    }  # fmt: skip
