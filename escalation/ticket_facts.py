"""Ticket facts as of a day: open tickets, CSAT counts, repeated-issue clusters (read-only SQL)."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from escalation.clusters import (
    IssueCluster,
    TicketFact,
    count_matching,
    find_clusters,
    signature_keys,
)
from escalation.config import EscalationConfig
from escalation.fact_models import AccountFacts, end_of_day
from model.tables import Ticket

SOLVED = frozenset({"solved", "closed", "deleted"})
TICKET_COLUMNS = (
    Ticket.zd_id,
    Ticket.account_id,
    Ticket.subject,
    Ticket.status,
    Ticket.priority,
    Ticket.tags,
    Ticket.created_at,
    Ticket.solved_at,
    Ticket.first_reply_minutes,
    Ticket.csat,
    Ticket.csat_at,
)


def add_ticket_facts(
    session: Session,
    facts: dict[int, AccountFacts],
    ids: list[int],
    as_of: date,
    cfg: EscalationConfig,
) -> None:
    """Open tickets, CSAT counts, and repeated-issue clusters with their baseline rate."""
    end = end_of_day(as_of)
    repeat = cfg.rule("repeated_issue")
    csat_days = cfg.rule("csat_turning_bad").window_days
    window_start = end - timedelta(days=repeat.window_days)
    baseline_start = window_start - timedelta(days=repeat.baseline_days)
    csat_start = end - timedelta(days=3 * csat_days)
    rows = session.execute(
        select(*TICKET_COLUMNS)
        .where(Ticket.account_id.in_(ids), Ticket.created_at < end)
        .where(
            or_(
                Ticket.solved_at.is_(None),
                Ticket.solved_at >= end,
                Ticket.created_at >= baseline_start,
                Ticket.csat_at >= csat_start,
            )
        )
    ).all()
    own_tags = set(cfg.zendesk.tags)
    recent: dict[int, list[TicketFact]] = defaultdict(list)
    baseline: dict[int, list[TicketFact]] = defaultdict(list)
    for t in rows:
        tags = list(t.tags or [])
        if own_tags.intersection(tags) or t.account_id is None:
            continue
        f = facts[t.account_id]
        fact = TicketFact.model_construct(
            zd_id=t.zd_id,
            subject=t.subject or "",
            status=t.status,
            priority=t.priority,
            tags=tags,
            created_at=t.created_at,
            solved_at=t.solved_at,
            first_reply_minutes=t.first_reply_minutes,
            age_hours=(end - t.created_at).total_seconds() / 3600,
        )
        # open that day: not solved by then (a ticket solved later was open on a replayed day)
        if t.solved_at >= end if t.solved_at is not None else t.status not in SOLVED:
            f.open_tickets.append(fact)
        if t.created_at >= window_start:
            recent[t.account_id].append(fact)
        elif t.created_at >= baseline_start:
            baseline[t.account_id].append(fact)
        if t.csat in ("good", "bad") and t.csat_at is not None and csat_start <= t.csat_at < end:
            is_recent = t.csat_at >= end - timedelta(days=csat_days)
            attr = f"csat_{'recent' if is_recent else 'prior'}_{t.csat}"
            setattr(f, attr, getattr(f, attr) + 1)
    for account_id, tickets in recent.items():
        facts[account_id].clusters = _clusters(tickets, baseline[account_id], cfg)
    clustered = {a: f.clusters for a, f in facts.items() if f.clusters}
    if repeat.book_norm and clustered:
        book = _book_mix(session, baseline_start, end, cfg)
        for account_id, clusters in clustered.items():
            _add_book_norm(clusters, recent[account_id], baseline[account_id], book, cfg)
    for f in facts.values():
        f.open_tickets.sort(key=lambda x: x.zd_id)


def _clusters(
    recent: list[TicketFact], before: list[TicketFact], cfg: EscalationConfig
) -> list[IssueCluster]:
    """Clusters of the window, each with how many such tickets the window would normally hold."""
    repeat = cfg.rule("repeated_issue")
    excluded = {t.lower() for t in repeat.exclude_tags}
    recent = [t for t in recent if not excluded.intersection(g.lower() for g in t.tags)]
    before = [t for t in before if not excluded.intersection(g.lower() for g in t.tags)]
    clusters = find_clusters(
        sorted(recent, key=lambda x: x.zd_id),
        min_tickets=repeat.min_tickets,
        similarity=repeat.similarity,
        ignore_tags=cfg.ignore_tags,
    )
    if not repeat.baseline_days:
        return clusters
    by_id = {t.zd_id: t for t in recent}
    for c in clusters:
        c.baseline_count = count_matching(
            [by_id[i] for i in c.ticket_ids],
            before,
            similarity=repeat.similarity,
            ignore_tags=cfg.ignore_tags,
        )
        c.expected = round(c.baseline_count * repeat.window_days / repeat.baseline_days, 2)
    return clusters


BookMix = tuple[Counter[str], int]


def _problem_tickets(rows: list[TicketFact], cfg: EscalationConfig) -> list[TicketFact]:
    excluded = {t.lower() for t in cfg.rule("repeated_issue").exclude_tags}
    return [t for t in rows if not excluded.intersection(g.lower() for g in t.tags)]


_BOOK_CACHE: dict[tuple[int, datetime, datetime, int], BookMix] = {}


def _book_mix(session: Session, start: datetime, end: datetime, cfg: EscalationConfig) -> BookMix:
    """Signature counts over every account's tickets in [start, end), and the ticket total.

    Memoized per session: facts gathered in account batches share one read of the book."""
    key = (id(session), start, end, id(cfg))
    if key not in _BOOK_CACHE:
        if len(_BOOK_CACHE) > 8:
            _BOOK_CACHE.clear()
        _BOOK_CACHE[key] = _read_book_mix(session, start, end, cfg)
    return _BOOK_CACHE[key]


def _read_book_mix(
    session: Session, start: datetime, end: datetime, cfg: EscalationConfig
) -> BookMix:
    excluded = {t.lower() for t in cfg.rule("repeated_issue").exclude_tags}
    excluded.update(t.lower() for t in cfg.zendesk.tags)
    rows = session.execute(
        select(Ticket.subject, Ticket.tags)
        .where(Ticket.account_id.is_not(None))
        .where(Ticket.created_at >= start, Ticket.created_at < end)
    ).all()
    distinct: Counter[tuple[str, tuple[str, ...]]] = Counter()
    for subject, tags in rows:
        tags = tuple(tags or ())
        if not excluded.intersection(g.lower() for g in tags):
            distinct[(subject or "", tags)] += 1
    counts: Counter[str] = Counter()
    for (subject, tags), n in distinct.items():
        for key in signature_keys(subject, tags, cfg.ignore_tags):
            counts[key] += n
    return counts, sum(distinct.values())


def _add_book_norm(
    clusters: list[IssueCluster],
    recent: list[TicketFact],
    before: list[TicketFact],
    book: BookMix,
    cfg: EscalationConfig,
) -> None:
    """Each cluster's count the rest of the book's topic mix predicts for this account's volume."""
    counts, total = book
    own = _problem_tickets(recent + before, cfg)
    own_counts: Counter[str] = Counter()
    for t in own:
        own_counts.update(signature_keys(t.subject, t.tags, cfg.ignore_tags))
    others = total - len(own)
    if others <= 0:
        return
    volume = len(_problem_tickets(recent, cfg))
    for c in clusters:
        share = max(0, counts[c.signature] - own_counts[c.signature]) / others
        c.book_expected = round(volume * share, 2)
