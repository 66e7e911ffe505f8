"""Which accounts a write-back plan must look at: the whole book (the day's first plan, a
changed write-back configuration or owner assignment, a full score), or only the accounts
whose desired or written state can have changed since the last committed plan.

The last plan's mark (the day it planned, digests of its configuration and of the owners it
wanted, the newest onboarding phase row it saw, when it started) is saved as the cursor
`writeback:plan` in the transaction that enqueues the plan: a crashed or dry run (rolled
back) leaves the next plan starting from the last committed one, and `reset_cursors` (a full
resync) makes the next plan whole. An account is planned again when, since the mark:

- its snapshot of the day was (re)written (`computed_at`): re-scored;
- its row's content changed (`updated_at`, moved only by a real change: model/upsert.py):
  deleted, or the pulled record `reassert` compares with;
- one of its identities changed (`updated_at`): an organization or crm record linked,
  unlinked, moved or re-read with other fields; or one of its tickets (`synced_at`): opened,
  closed, moved. The account a pending write to that record was queued for is planned too,
  so a write whose target left it is superseded as a whole-book plan would;
- its onboarding phase moved (a phase row added or closed);
- a write of its was done or dead-lettered (`done_at`): written state moved, or a dead
  letter is to be planned again.

Snapshots, tickets and phases are written by runs, whose stages commit before they plan
(a targeted refresh plans and enqueues its own accounts itself), so they are compared with
the mark's time. Rows other processes write while a run plans (the outbox drain's results,
a reviewer's link decision, an erasure) are compared with the mark less the marks' margin
(model/marks.py): a change stamped just before the last plan read but committed after it is
planned again, not missed.
A plan that would cover more than `FULL_SHARE` of the book plans the whole book (the
batched pass is cheaper than id lists, and sweeps).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from model import marks
from model.tables import (
    Account,
    ExternalIdentity,
    HealthSnapshot,
    OnboardingPhase,
    OutboxItem,
    Ticket,
)
from sync.deadband import DeadBand
from sync.outbox_results import FIELD_KINDS
from sync.writeback import FieldTarget
from sync.writeback_rows import IN_BATCH

MARK_STREAM = "writeback:plan"
FULL_SHARE = 0.5
PLANNER_VERSION = "2"  # bump when the planner's output for the same inputs changes


@dataclass(frozen=True)
class PlanMark:
    """What the last committed plan covered (ISO texts, as stored in the cursor)."""

    day: str
    config: str
    owners: str
    phase_id: int
    at: str
    exited: int = 0  # phase rows closed when it planned (an older mark without it: 0)


@dataclass(frozen=True)
class PlanScope:
    """`accounts`: the accounts to plan (None: the whole book, with the sweep); `mark`: to
    save with the plan; `reason`: why, for the log and the run's stats."""

    accounts: list[int] | None
    mark: PlanMark
    reason: str


def config_digest(
    targets: Mapping[str, Sequence[FieldTarget]], policy: str, band: DeadBand | None
) -> str:
    """Everything the planner's output depends on besides the data: the field maps of the
    write targets, the policy, the dead-bands and the planner's version."""
    parts = [PLANNER_VERSION, policy, repr(band)]
    for entity in sorted(targets):
        for t in targets[entity]:
            fields = t.kind.fields.model_dump_json() if t.kind.fields is not None else ""
            parts.append(f"{entity}|{t.system}|{t.kind.name}|{fields}")
    return _sha("\n".join(parts))


def owners_digest(owners: Mapping[int, Mapping[str, Any]]) -> str:
    """The owners the assignment rules want (re-balanced over the whole book)."""
    return _sha(json.dumps(sorted((k, dict(v)) for k, v in owners.items()), default=str))


def read_mark(session: Session) -> PlanMark | None:
    return marks.read_mark(session, MARK_STREAM, PlanMark)  # None: plan the whole book


def save_mark(session: Session, mark: PlanMark) -> None:
    marks.save_mark(session, MARK_STREAM, mark)


def plan_scope(
    session: Session,
    day: dt.date,
    config: str,
    owners: str,
    now: dt.datetime,
    *,
    full: str | None = None,
) -> PlanScope:
    """The accounts to plan on `day` (`full`: a reason to plan the whole book regardless)."""
    phase_id = session.scalar(select(func.max(OnboardingPhase.id))) or 0
    exited = session.scalar(select(func.count()).where(OnboardingPhase.exited_on.is_not(None)))
    mark = PlanMark(day.isoformat(), config, owners, phase_id, now.isoformat(), exited or 0)
    last = read_mark(session)
    why = full
    if why is None:
        if last is None:
            why = "no plan committed yet"
        elif last.day != mark.day:
            why = "first plan of the day"
        elif last.config != config:
            why = "write-back configuration changed"
        elif last.owners != owners:
            why = "owner assignments changed"
    if why is not None or last is None:
        return PlanScope(None, mark, f"whole book: {why}")
    since = dt.datetime.fromisoformat(last.at)
    accounts = changed_accounts(session, day, since, last.phase_id, mark.exited != last.exited)
    book = session.scalar(select(func.count()).where(HealthSnapshot.as_of == day)) or 0
    if len(accounts) > FULL_SHARE * book:
        return PlanScope(None, mark, f"whole book: {len(accounts)} of {book} accounts changed")
    return PlanScope(sorted(accounts), mark, f"{len(accounts)} accounts changed since {last.at}")


def changed_accounts(
    session: Session, day: dt.date, since: dt.datetime, phase_id: int, exits: bool = True
) -> set[int]:
    """Accounts whose desired or written state can have changed since the plan marked
    `since` (see above). A phase's exit is a date: `exits` says whether any phase was closed
    since the mark (the count of closed rows moved); only then are the accounts whose phase
    closed on or after the mark's day planned, else every run of that day would plan them."""
    out: set[int] = set()
    others = marks.watermark(since)  # rows written outside runs too

    def ids(stmt: Any) -> None:
        out.update(a for a in session.scalars(stmt) if a is not None)

    ids(
        select(HealthSnapshot.account_id).where(
            HealthSnapshot.as_of == day, HealthSnapshot.computed_at > since
        )
    )
    ids(select(Account.id).where(Account.updated_at > others))
    moved = [OnboardingPhase.id > phase_id]
    if exits:
        moved.append(OnboardingPhase.exited_on >= since.date())
    ids(select(OnboardingPhase.account_id).where(or_(*moved)))
    ids(
        select(OutboxItem.account_id).where(
            OutboxItem.done_at > others, OutboxItem.kind.in_(FIELD_KINDS)
        )
    )
    targets: set[tuple[str, str]] = set()
    for source, ext, acc in session.execute(
        select(ExternalIdentity.source, ExternalIdentity.external_id, ExternalIdentity.account_id)
        .where(ExternalIdentity.updated_at > others)
    ):  # fmt: skip
        targets.add((source, ext))
        if acc is not None:
            out.add(acc)
    for source, ticket, acc in session.execute(
        select(Ticket.source, Ticket.helpdesk_id, Ticket.account_id).where(Ticket.synced_at > since)
    ):
        targets.add((source, str(ticket)))
        if acc is not None:
            out.add(acc)
    out |= pending_owners(session, targets)
    return out


def pending_owners(session: Session, targets: Iterable[tuple[str, str]]) -> set[int]:
    """The accounts pending field/tag writes to these (source, record id) targets were
    queued for: the record may have left that account since."""
    wanted = set(targets)
    by_id = sorted({t for _, t in wanted})
    out: set[int] = set()
    for start in range(0, len(by_id), IN_BATCH):
        rows = session.execute(
            select(OutboxItem.system, OutboxItem.target_id, OutboxItem.account_id).where(
                OutboxItem.status == "pending",
                OutboxItem.kind.in_(FIELD_KINDS),
                OutboxItem.target_id.in_(by_id[start : start + IN_BATCH]),
            )
        )
        out.update(a for s, t, a in rows if a is not None and (s, t) in wanted)
    return out


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()
