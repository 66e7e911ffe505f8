"""Customer-success operations in a run: onboarding phases (stalls become owner tasks) and
handoffs (an incomplete one becomes a task for the implementation owner).

Decisions are rows (`onboarding_phases`, `handoffs`, `account_stages`) committed in the same
transaction as the outbox creations that act on them, keyed so each task is queued once:
`ops:stalled:a<account>:<phase>:<entered on>` and `ops:handoff:a<account>:<handed off on>`.

Cost follows change. What an account's decision reads: its row (fields, attributes, stage),
its snapshot of the newest scored day (signals, score), its open phase and last seen stage
(written only here), the day (a stall is `entered_on` against `as_of`; nothing reads a clock
finer than the day) and the configuration. Contact roles are read only when the stage moves
(a row change) and the first usage day only for an account's first phase row (its first
snapshot). So within one day, for one configuration and snapshot day, deciding again for an
account whose row and snapshot did not change is a no-op (same phase row, stall already
marked, stage already seen), and a later run of the day looks only at accounts whose row
(`updated_at`) or snapshot (`computed_at`) changed since the last committed mark
(`operations:mark`, sync/stage_marks.py). The day's first run, a configuration change, a
new snapshot day or a missing mark look at every account. A targeted refresh (`scope`)
decides for its accounts and leaves the mark alone.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping
from typing import Any

from sqlalchemy import func, select, union
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
from sync.stage_marks import StageMark, config_digest, previous, save_mark

MARK_STREAM = "operations:mark"
OPS_VERSION = "ops-1"  # bump when a decision for the same rows and day changes
CHUNK = 1000  # accounts a page: bounded queries and memory whatever the book's size


def account_facts(acc: Account, snap: HealthSnapshot | _Snap | None) -> dict[str, Any]:
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
    *,
    now: dt.datetime | None = None,
) -> tuple[dict[str, int], list[CreateRequest]]:
    """Move phases and notice handoffs for the current accounts that can need it (or those
    in `scope`, a targeted refresh); returns counts and the tasks to queue in the same
    transaction. Accounts are read `CHUNK` at a time, in id order: memory stays flat.

    A book run looks at every account on the day's first run (or after a configuration or
    snapshot-day change, or with no committed mark), else only at the accounts changed since
    the last committed mark (module docstring), and saves its own mark in `session`."""
    now = now or utcnow()
    newest = session.scalar(
        select(func.max(HealthSnapshot.as_of)).where(HealthSnapshot.as_of <= as_of)
    )
    counts: Counter[str] = Counter()
    requests: list[CreateRequest] = []
    mark = StageMark(as_of.isoformat(), config_digest(config, OPS_VERSION), str(newest),
                     now.isoformat())  # fmt: skip
    if scope is not None:
        pages: Iterator[list[Account]] = _scoped(session, sorted(set(scope)))
    else:
        last = previous(session, MARK_STREAM, mark)
        pages = _book(session, newest, None if last is None else last.since)
        counts["whole_book" if last is None else "changed_only"] = 1
    for accounts in pages:
        more, tasks = _evaluate(session, accounts, newest, as_of, config)
        counts.update(more)
        requests += [r for a in tasks for r in to_requests(session, a, None, systems)]
        session.flush()  # the page's rows are written: the session keeps no strong reference
    if scope is None:
        save_mark(session, MARK_STREAM, mark)
    return dict(counts), requests


def _book(
    session: Session, newest: dt.date | None, since: dt.datetime | None
) -> Iterator[list[Account]]:
    """Live accounts in id order, `CHUNK` a page (keyset paging over ids, then the page's
    rows); with `since`, only those whose row or whose snapshot of `newest` changed after it:
    a union of two indexed time ranges (`accounts.updated_at`, `health_snapshots (as_of,
    computed_at)`), so an unchanged run reads no account it does not look at."""
    if since is None:
        ids: Any = select(Account.id.label("id")).where(Account.is_deleted.is_(False)).subquery()
    else:
        ids = union(
            select(Account.id.label("id")).where(Account.updated_at > since),
            select(HealthSnapshot.account_id.label("id")).where(
                HealthSnapshot.as_of == newest, HealthSnapshot.computed_at > since
            ),
        ).subquery()
    after = 0
    while page := list(
        session.scalars(select(ids.c.id).where(ids.c.id > after).order_by(ids.c.id).limit(CHUNK))
    ):
        yield from _scoped(session, page)
        after = page[-1]


def _scoped(session: Session, ids: list[int]) -> Iterator[list[Account]]:
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        yield list(
            session.scalars(
                select(Account)
                .where(Account.is_deleted.is_(False), Account.id.in_(chunk))
                .order_by(Account.id)
            )
        )


def _evaluate(
    session: Session,
    accounts: list[Account],
    newest: dt.date | None,
    as_of: dt.date,
    config: CsOpsConfig,
) -> tuple[Counter[str], list[CreateOwnerTask]]:
    """One page: its snapshots, open phases and stages in a bounded query each; first usage
    and contact roles only for the accounts that need them (a new phase row, a handoff)."""
    live = [a for a in accounts if not is_churned_stage(a.lifecycle_stage)]
    ids = [a.id for a in live]
    snaps = _snapshots(session, ids, newest)
    open_phases = {
        p.account_id: p
        for p in session.scalars(
            select(OnboardingPhase).where(
                OnboardingPhase.exited_on.is_(None), OnboardingPhase.account_id.in_(ids)
            )
        )
    }
    stages = {
        s.account_id: s
        for s in session.scalars(select(AccountStage).where(AccountStage.account_id.in_(ids)))
    }
    first_usage = _first_usage(session, [i for i in ids if i in snaps and i not in open_phases])
    moving = [a.id for a in live if _moves(config, stages.get(a.id), a)]
    roles = _roles(session, moving)
    counts: Counter[str] = Counter()
    actions: list[CreateOwnerTask] = []
    for acc in live:
        counts["accounts_evaluated"] += 1
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
    return counts, actions


class _Snap:
    """What phase criteria read of a snapshot (its signals and score), without the row."""

    __slots__ = ("score", "signals")

    def __init__(self, score: float | None, signals: dict[str, Any] | None) -> None:
        self.score, self.signals = score, signals


def _snapshots(session: Session, ids: list[int], day: dt.date | None) -> dict[int, _Snap]:
    if day is None or not ids:
        return {}
    rows = session.execute(
        select(HealthSnapshot.account_id, HealthSnapshot.score, HealthSnapshot.signals).where(
            HealthSnapshot.as_of == day, HealthSnapshot.account_id.in_(ids)
        )
    )
    return {aid: _Snap(score, signals) for aid, score, signals in rows.tuples()}


def _first_usage(session: Session, ids: list[int]) -> dict[int, dt.date]:
    """The first usage day of accounts about to get their first phase row (go-live fallback)."""
    if not ids:
        return {}
    rows = session.execute(
        select(UsageDaily.account_id, func.min(UsageDaily.day))
        .where(UsageDaily.account_id.in_(ids))
        .group_by(UsageDaily.account_id)
    )
    return {aid: day for aid, day in rows.tuples() if aid is not None}


def _moves(config: CsOpsConfig, seen: AccountStage | None, acc: Account) -> bool:
    return seen is not None and is_handoff(config.handoff, seen.stage, acc.lifecycle_stage)


def _roles(session: Session, ids: list[int]) -> dict[int, list[str | None]]:
    """Contact roles of the accounts handed off now (the checklist's contact items)."""
    roles: dict[int, list[str | None]] = defaultdict(list)
    if ids:
        for aid, role in session.execute(
            select(Contact.account_id, Contact.role).where(
                Contact.is_deleted.is_(False), Contact.account_id.in_(ids)
            )
        ).tuples():
            if aid is not None:
                roles[aid].append(role)
    return roles


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
    """Record a new stage; a move from implementation to support is a handoff, checked now."""
    if seen is None:
        session.add(AccountStage(account_id=acc.id, stage=acc.lifecycle_stage, seen_on=as_of))
        return None
    before, after = seen.stage, acc.lifecycle_stage
    if before == after:  # no write: a day's first run looks at every account
        return None
    seen.stage, seen.seen_on = after, as_of
    if not is_handoff(config.handoff, before, after):
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
