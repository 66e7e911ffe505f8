"""The support aggregates behind `compute_signals`: tickets, repeat issues and open escalations,
all bounded by `as_of`."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session

from model.json_text import ListCache, as_text, decode_list
from model.own_tags import customer_tags
from model.own_tickets import customer_tickets
from model.tables import Escalation, Ticket
from scoring.queries import SUPPORT_DAYS, Signals, end_of, for_accounts

CSAT_DAYS = 180
SOLVED = ("solved", "closed")


def add_tickets(session: Session, as_of: date, ids: Sequence[int] | None, out: Signals) -> None:
    """Volume, open urgent tickets, reply/resolution times, reopens and CSAT from tickets."""
    end = end_of(as_of)
    w90, w180 = end - timedelta(days=SUPPORT_DAYS), end - timedelta(days=CSAT_DAYS)
    if session.scalar(select(Ticket.id).where(Ticket.created_at < end).limit(1)) is None:
        return
    new = Ticket.created_at >= w90
    solved = and_(Ticket.solved_at >= w90, Ticket.solved_at < end)
    still_open = or_(
        and_(Ticket.solved_at.is_(None), Ticket.status.not_in(SOLVED)), Ticket.solved_at >= end
    )
    rated = and_(Ticket.csat_at >= w180, Ticket.csat_at < end)
    rows = session.execute(
        select(
            Ticket.account_id, func.count(case((new, 1))), func.avg(case((new, Ticket.first_reply_minutes))),
            func.count(case((solved, 1))), func.avg(case((solved, Ticket.full_resolution_minutes))),
            func.count(case((and_(solved, Ticket.reopens > 0), 1))),
            func.count(case((and_(still_open, Ticket.priority == "urgent"), 1))),
            func.count(case((and_(rated, Ticket.csat == "good"), 1))),
            func.count(case((and_(rated, Ticket.csat == "bad"), 1))),
            func.max(case((Ticket.csat_at < end, Ticket.csat_at))),
        ).where(for_accounts(Ticket.account_id, ids), Ticket.created_at < end, Ticket.status != "deleted",
               customer_tickets(session))
        .group_by(Ticket.account_id)
    ).all()  # fmt: skip
    for s in out.values():
        s.open_urgent_tickets = 0.0
        s.tickets_per_seat_90d = 0.0 if s.seats else None
    for aid, created, frt, n_solved, resolution, reopened, urgent, good, bad, last_rating in rows:
        t = out.get(aid)
        if t is None:
            continue
        s = t
        s.tickets_per_seat_90d = created / s.seats if s.seats else None
        s.first_reply_hours = None if frt is None else frt / 60
        s.resolution_hours = None if resolution is None else resolution / 60
        s.reopen_rate = reopened / n_solved if n_solved else None
        s.open_urgent_tickets = float(urgent)
        if good + bad:
            s.csat, s.csat_responses = good / (good + bad), float(good + bad)
        if last_rating is not None:
            s.ages["csat"] = (end - last_rating).total_seconds() / 86400


def add_repeat_issues(
    session: Session, as_of: date, ids: Sequence[int] | None, out: Signals
) -> None:
    """The most tickets sharing one (non-pulsehub) tag in 90 days: the same issue coming back.

    Tickets are counted per account and stored tag list (JSON text) in the database, and each
    distinct list is decoded once: a book repeats a few dozen tag lists across hundreds of
    thousands of tickets. (Decoding each row was most of this query's time in the first
    sync's replay; reading a row per ticket was most of a scoring batch's memory, ~100,000
    rows for 2,000 accounts.)"""
    end = end_of(as_of)
    tags_text = as_text(Ticket.tags)
    rows = session.execute(
        select(Ticket.account_id, tags_text, func.count())
        .where(
            for_accounts(Ticket.account_id, ids),
            Ticket.created_at >= end - timedelta(days=SUPPORT_DAYS),
            Ticket.created_at < end,
            Ticket.status != "deleted",
            customer_tickets(session),
        )
        .group_by(Ticket.account_id, tags_text)
    )
    decoded: ListCache = {}
    topics: dict[tuple[Any, ...], tuple[str, ...]] = {}
    counts: dict[int, Counter[str]] = defaultdict(Counter)
    for aid, raw, n in rows:
        tags = decode_list(raw, decoded)
        kept = topics.get(tags)
        if kept is None:
            kept = topics[tags] = _topics(tags)
        if kept and aid is not None:
            counts[aid].update(dict.fromkeys(kept, n))
    for aid, s in out.items():
        if s.open_urgent_tickets is None:  # no ticket source at all
            continue
        # ties go to the first tag by name: set order varies per process, and a reason that
        # flips between equal tags would rewrite the account's health reasons every run
        top = min(counts[aid].items(), key=lambda kv: (-kv[1], kv[0])) if counts.get(aid) else None
        s.repeat_issue_tickets = float(top[1]) if top else 0.0
        s.repeat_issue_tag = top[0] if top else None


def _topics(tags: tuple[Any, ...]) -> tuple[str, ...]:
    """A ticket's distinct tags that are not pulsehub's own."""
    return tuple(set(customer_tags(tags)))


def add_escalations(session: Session, as_of: date, ids: Sequence[int] | None, out: Signals) -> None:
    end = end_of(as_of)
    still_open = or_(
        and_(Escalation.resolved_at.is_(None), Escalation.state != "resolved"),
        Escalation.resolved_at >= end,
    )
    rows = session.execute(
        select(Escalation.account_id, func.count())
        .where(for_accounts(Escalation.account_id, ids), Escalation.opened_at < end, still_open)
        .group_by(Escalation.account_id)
    )
    counts = dict(rows.tuples().all())
    for aid, s in out.items():
        s.open_escalations = float(counts.get(aid, 0))
