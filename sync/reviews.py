"""The CS-operations stage: a review task for every renewal, and RCA tracking for solved
engineering escalations. Runs after escalating, in the same transaction as the outbox
creations it returns, so what it decided is committed with what carries it out.

Renewal reviews: one crm task per account and renewal date (outbox key
`ops:renewal_review:a<id>:<date>`), opened `days_ahead` before the renewal whatever the band,
with the risk assessment in its description; when the renewal escalation rule has already
given the owner its review task, that one counts (its key is kept, marked superseded). RCA: an `RcaReview` row when an escalation's
engineering ticket is solved (due `due_hours` later); done when the ticket carries a done tag
or an operator marks it; one internal reminder comment on the ticket once it is due.
Access reviews: one crm task per account with product users each quarter (key
`ops:access_review:a<id>:<quarter>`), listing who has access and what to fix.

Cost follows change: each task is decided once, from committed rows, so after a committed
pass only what can have changed since needs looking at. The last pass's mark
(`reviews:mark`, sync/stage_marks.py: its day, quarter, configuration and start) is saved
with the creations. A renewal review is looked at when the renewal enters the window (a day
later than the mark's) or its account row changed; an RCA when its escalation or ticket
changed; an access review when the quarter turned, or the account, its workspace links or
its users changed. With no mark, or another configuration, everything is looked at.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import Session

from escalation.operations import (
    OperationsConfig,
    RcaConfig,
    RenewalReviewConfig,
    quarter_of,
    rca_reminder_text,
    renewal_task_text,
)
from model.account_rows import ops_key_prefix
from model.tables import Account, Escalation, HealthSnapshot, OutboxItem, RcaReview, Ticket
from sync.access_tasks import access_review_pages
from sync.escalate import EscalationSystems
from sync.outbox import CreateRequest
from sync.stage_marks import StageMark, config_digest, read_mark, save_mark

log = logging.getLogger(__name__)
SOLVED = ("solved", "closed")
MARK_STREAM = "reviews:mark"
REVIEWS_VERSION = "reviews-1"  # bump when a decision for the same rows and day changes
CHUNK = 1000  # accounts a page


Queue = Callable[[Sequence[CreateRequest]], object]


def run_reviews(
    session: Session,
    now: dt.datetime,
    config: OperationsConfig,
    systems: EscalationSystems,
    queue: Queue,
) -> dict[str, int]:
    """Counts of what happened; the creations are handed to `queue` (to be queued in `session`,
    with the mark). Each part looks only at what changed since the last committed mark (module
    docstring). Renewal and access reviews are handed over a page of accounts at a time: a
    whole-book pass (a first sync) makes a renewal review for every renewal in the window and
    an access review for nearly every account (~10,000 and ~42,000 at 50,000 accounts)."""
    counts: dict[str, int] = {}
    today = now.date()
    mark = StageMark(today.isoformat(), config_digest(config, REVIEWS_VERSION),
                     quarter_of(today), now.isoformat())  # fmt: skip
    last = read_mark(session, MARK_STREAM)
    if last is not None and (last.config != mark.config or last.day > mark.day):
        last = None  # another configuration, or a clock set back: the whole book
    counts["whole_book" if last is None else "changed_only"] = 1
    if config.renewal_review.enabled:
        entered = None if last is None else dt.date.fromisoformat(last.day)
        pages = renewal_review_pages(
            session, today, config.renewal_review, systems.sources.get("crm", "crm"),
            changed=None if last is None or entered is None else Changed(last.since, entered),
        )  # fmt: skip
        counts["renewal_reviews"] = 0
        for page in pages:
            counts["renewal_reviews"] += len(page)
            queue(page)
    if config.rca.enabled:
        rca_counts, reminders = track_rcas(
            session, now, config.rca, systems.sources.get("helpdesk", "helpdesk"),
            since=None if last is None else last.since,
        )  # fmt: skip
        counts |= rca_counts
        queue(reminders)
    if config.access_review.enabled:
        same_quarter = last is not None and last.basis == mark.basis
        access = access_review_pages(
            session, now, config.access_review, systems.sources.get("crm", "crm"),
            since=last.since if last is not None and same_quarter else None,
        )  # fmt: skip
        counts["access_reviews"] = 0
        for page in access:
            counts["access_reviews"] += len(page)
            queue(page)
    save_mark(session, MARK_STREAM, mark)
    return {k: v for k, v in counts.items() if v}


@dataclass(frozen=True)
class Changed:
    """What a renewal-review pass may look at only: rows changed after `since`, renewals that
    entered the window after the day `last_day` (the last committed pass) saw."""

    since: dt.datetime
    last_day: dt.date


def renewal_key(account_id: int, renewal_date: dt.date) -> str:
    return f"{ops_key_prefix(account_id, 'renewal_review')}{renewal_date.isoformat()}"


def _latest_snapshots(session: Session, account_ids: list[int]) -> dict[int, HealthSnapshot]:
    if not account_ids:
        return {}
    newest = (
        select(HealthSnapshot.account_id, func.max(HealthSnapshot.as_of).label("as_of"))
        .where(HealthSnapshot.account_id.in_(account_ids))
        .group_by(HealthSnapshot.account_id)
        .subquery()
    )
    rows = session.scalars(
        select(HealthSnapshot).join(
            newest,
            (HealthSnapshot.account_id == newest.c.account_id)
            & (HealthSnapshot.as_of == newest.c.as_of),
        )
    )
    return {s.account_id: s for s in rows}


def renewal_review_pages(
    session: Session,
    today: dt.date,
    config: RenewalReviewConfig,
    system: str,
    *,
    changed: Changed | None = None,
) -> Iterator[list[CreateRequest]]:
    """A task for each renewal within `days_ahead` that has none yet (exactly once per
    account and renewal date: the key is in the outbox whatever became of the write).

    Whether an account is due reads only its row (renewal date, crm id, owner), the day and
    the outbox: once its key is queued nothing more happens. So with `changed`, only the
    renewals that entered the window since the last pass's day, and the accounts whose row
    changed since, are looked at (an indexed date range and an indexed time range)."""
    horizon = today + dt.timedelta(days=config.days_ahead)
    query = select(Account).where(
        Account.is_deleted.is_(False),
        Account.renewal_date.is_not(None),
        Account.renewal_date >= today,
        Account.renewal_date <= horizon,
    )
    if changed is not None:
        entered_after = changed.last_day + dt.timedelta(days=config.days_ahead)
        query = query.where(
            or_(Account.renewal_date > entered_after, Account.updated_at > changed.since)
        )
    for page in _pages(session, query):
        yield _renewal_page(session, page, today, config, system)


def _pages(session: Session, query: Select[Any]) -> Iterator[list[Account]]:
    """The query's accounts in id order, `CHUNK` at a time (keyset paging)."""
    after = 0
    while page := list(
        session.scalars(query.where(Account.id > after).order_by(Account.id).limit(CHUNK))
    ):
        yield page
        after = page[-1].id


def _renewal_page(
    session: Session,
    accounts: list[Account],
    today: dt.date,
    config: RenewalReviewConfig,
    system: str,
) -> list[CreateRequest]:
    keys = {renewal_key(a.id, a.renewal_date): a for a in accounts if a.renewal_date}
    done = set(session.scalars(select(OutboxItem.key).where(OutboxItem.key.in_(list(keys)))))
    due = [a for k, a in keys.items() if k not in done]
    missing = [a.id for a in due if not a.crm_id or not a.owner_crm_id]
    if missing:
        log.warning("renewal reviews skipped: %s accounts have no crm id or owner", len(missing))
    due = [a for a in due if a.crm_id and a.owner_crm_id]
    covered = _covered_by_escalation(session, [a.id for a in due])
    for acc in [a for a in due if a.id in covered]:
        # the renewal escalation's owner task is this renewal's review: keep its key, so the
        # renewal never gets a second one when the escalation closes
        assert acc.renewal_date is not None
        session.add(
            OutboxItem(
                key=renewal_key(acc.id, acc.renewal_date),
                system=system,
                kind="crm_task",
                target_id=renewal_key(acc.id, acc.renewal_date)[-64:],
                payload={"_meta": {"account_id": acc.id, "escalation_id": covered[acc.id]}},
                status="superseded",
                result={"covered_by_escalation": covered[acc.id]},
            )
        )
    due = [a for a in due if a.id not in covered]
    snapshots = _latest_snapshots(session, [a.id for a in due])
    requests = []
    for acc in due:
        assert acc.renewal_date is not None
        snap = snapshots.get(acc.id)
        subject, description = renewal_task_text(
            config, name=acc.name, renewal_date=acc.renewal_date, arr=acc.arr, snapshot=snap
        )
        payload: dict[str, Any] = {
            "what_id": acc.crm_id,
            "owner_id": acc.owner_crm_id,
            "subject": subject,
            "description": description,
            "due_date": min(
                today + dt.timedelta(days=config.due_days), acc.renewal_date
            ).isoformat(),
            "priority": "High" if snap is not None and snap.band == "red" else "Normal",
            "_meta": {"account_id": acc.id, "renewal_date": acc.renewal_date.isoformat()},
        }
        requests.append(
            CreateRequest(renewal_key(acc.id, acc.renewal_date), system, "crm_task", payload)
        )
    return requests


RENEWAL_ESCALATION = "renewal_review"  # the escalation rule that opens its own review task


def _covered_by_escalation(session: Session, account_ids: list[int]) -> dict[int, int]:
    """Accounts whose active renewal escalation already gave the owner a review task."""
    if not account_ids:
        return {}
    rows = session.execute(
        select(Escalation.account_id, Escalation.id).where(
            Escalation.rule == RENEWAL_ESCALATION,
            Escalation.state.in_(("open", "acknowledged")),
            Escalation.account_id.in_(account_ids),
        )
    )
    return {account_id: esc_id for account_id, esc_id in rows}


def rca_key(review: RcaReview) -> str:
    return f"{ops_key_prefix(review.account_id, 'rca_reminder')}e{review.escalation_id}"


def track_rcas(
    session: Session,
    now: dt.datetime,
    config: RcaConfig,
    system: str,
    *,
    since: dt.datetime | None = None,
) -> tuple[dict[str, int], list[CreateRequest]]:
    """Open an RCA for each newly solved engineering ticket, close those whose ticket carries
    a done tag, and remind once on each one that is due and not done.

    Opening and closing read only the escalation and its ticket, so with `since` only pairs
    where either changed after it are looked at (a ticket solved or tagged moves its
    `synced_at`, an escalation given its ticket its `updated_at`). Reminders depend on the
    clock (`due_at`, to the second): every run asks for the due ones, an indexed few."""
    counts = {"rca_opened": 0, "rca_done": 0, "rca_reminded": 0}
    pairs = (
        select(Escalation, Ticket)
        .join(
            Ticket,
            and_(
                Ticket.helpdesk_id == Escalation.helpdesk_ticket_id,
                # ticket ids repeat across helpdesk instances: the one the escalation opened
                or_(
                    Escalation.helpdesk_source.is_(None),
                    Ticket.source == Escalation.helpdesk_source,
                ),
            ),
        )
        .where(Ticket.status.in_(SOLVED))
    )
    solved: list[tuple[Escalation, Ticket]]
    if since is None:
        solved = [(esc, ticket) for esc, ticket in session.execute(pairs).tuples()]
    else:  # two indexed time ranges (one OR across both tables would scan the solved tickets)
        solved = list(
            {
                esc.id: (esc, ticket)
                for changed in (Ticket.synced_at > since, Escalation.updated_at > since)
                for esc, ticket in session.execute(pairs.where(changed)).tuples()
            }.values()
        )
    reviews = {
        r.escalation_id: r
        for r in session.scalars(
            select(RcaReview).where(RcaReview.escalation_id.in_([e.id for e, _ in solved]))
        )
    }
    done_tags = set(config.done_tags)
    for esc, ticket in solved:
        review = reviews.get(esc.id)
        if review is None:
            solved_at = ticket.solved_at or ticket.updated_at
            review = RcaReview(
                escalation_id=esc.id,
                account_id=esc.account_id,
                helpdesk_ticket_id=ticket.helpdesk_id,
                solved_at=solved_at,
                due_at=solved_at + dt.timedelta(hours=config.due_hours),
            )
            session.add(review)
            counts["rca_opened"] += 1
        tagged = sorted(done_tags & set(ticket.tags or []))
        if review.done_at is None and tagged:
            review.done_at, review.done_by = min(ticket.updated_at, now), f"tag:{tagged[0]}"
            counts["rca_done"] += 1
    session.flush()
    requests = []
    overdue = session.execute(
        select(RcaReview, Escalation.helpdesk_source)
        .join(Escalation, Escalation.id == RcaReview.escalation_id)
        .where(
            RcaReview.done_at.is_(None),
            RcaReview.reminded_at.is_(None),
            RcaReview.due_at <= now,
            RcaReview.helpdesk_ticket_id.is_not(None),
        )
    ).all()
    for review, source in overdue:
        payload = {
            "helpdesk_ticket_id": review.helpdesk_ticket_id,
            "body": rca_reminder_text(config, review.due_at),
            "public": False,
            "status": None,
            "_meta": {"escalation_id": review.escalation_id},
        }
        # the reminder goes to the helpdesk instance holding the ticket
        requests.append(
            CreateRequest(rca_key(review), source or system, "helpdesk_comment", payload)
        )
        review.reminded_at = now
        counts["rca_reminded"] += 1
    return counts, requests


def mark_rca_done(session: Session, escalation_id: int, who: str, now: dt.datetime) -> RcaReview:
    """An operator marks an escalation's RCA done (it need not be solved in the helpdesk yet)."""
    review = session.scalars(
        select(RcaReview).where(RcaReview.escalation_id == escalation_id)
    ).first()
    if review is None:
        esc = session.get(Escalation, escalation_id)
        if esc is None:
            raise LookupError(f"no escalation {escalation_id}")
        review = RcaReview(
            escalation_id=esc.id, account_id=esc.account_id,
            helpdesk_ticket_id=esc.helpdesk_ticket_id, solved_at=now, due_at=now,
        )  # fmt: skip
        session.add(review)
    if review.done_at is None:
        review.done_at, review.done_by = now, who[:255]
    session.flush()
    return review
