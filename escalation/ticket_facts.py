"""Ticket facts as of a day: open tickets, CSAT counts, repeated-issue clusters (read-only SQL)."""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from escalation.book_counts import (
    book_signatures,
    count_days,
    excluded_tags,
    problem_tickets,
    rule_tags,
    sum_days,
    window_clusters,
)
from escalation.book_days import (
    DayCounts,
    is_midnight,
    mix_settings,
    read_mix,
)
from escalation.book_norms import BookMix, BookNorm, book_expected
from escalation.clusters import (
    IssueCluster,
    TicketFact,
    count_matching,
    signature_keys,
)
from escalation.config import EscalationConfig
from escalation.fact_models import FactsById, end_of_day
from model.json_text import ListCache, as_text, decode_list
from model.tables import Ticket

SOLVED = frozenset({"solved", "closed", "deleted"})
TICKET_COLUMNS = (
    Ticket.helpdesk_id,
    Ticket.account_id,
    Ticket.subject,
    Ticket.status,
    Ticket.priority,
    as_text(Ticket.tags).label("tags"),
    Ticket.created_at,
    Ticket.solved_at,
    Ticket.first_reply_minutes,
    Ticket.csat,
    Ticket.csat_at,
)


def add_ticket_facts(
    session: Session, facts: FactsById, ids: list[int], as_of: date, cfg: EscalationConfig
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
    recent: dict[int, list[TicketFact]] = defaultdict(list)
    baseline: dict[int, list[TicketFact]] = defaultdict(list)
    decoded: ListCache = {}
    csat: Counter[tuple[int, str]] = Counter()
    for t in rows:
        tags = rule_tags(decode_list(t.tags, decoded), cfg)
        if tags is None or t.account_id is None:
            continue  # an engineering ticket pulsehub opened, or nobody's
        f = facts[t.account_id]
        fact = TicketFact(
            helpdesk_id=t.helpdesk_id,
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
            csat[t.account_id, f"csat_{'recent' if is_recent else 'prior'}_{t.csat}"] += 1
    for (account_id, attr), n in csat.items():  # one assignment each: the model validates it
        setattr(facts[account_id], attr, getattr(facts[account_id], attr) + n)
    for account_id, tickets in recent.items():
        facts[account_id].clusters = _clusters(tickets, baseline[account_id], cfg)
    clustered = {a: f.clusters for a, f in facts.items() if f.clusters}
    if repeat.book_norm and clustered:
        keys = frozenset(c.signature for cs in clustered.values() for c in cs)
        book = book_mix(session, as_of, cfg, keys)
        for account_id, clusters in clustered.items():
            facts[account_id].book_norms = _add_book_norm(
                clusters, recent[account_id], baseline[account_id], book, cfg
            )
    for f in facts.values():
        f.open_tickets.sort(key=lambda x: x.helpdesk_id)


def _clusters(
    recent: list[TicketFact], before: list[TicketFact], cfg: EscalationConfig
) -> list[IssueCluster]:
    """Clusters of the window, each with how many such tickets the window would normally hold."""
    repeat = cfg.rule("repeated_issue")
    recent = problem_tickets(recent, cfg)
    before = problem_tickets(before, cfg)
    clusters = window_clusters(recent, cfg)
    if not repeat.baseline_days:
        return clusters
    by_id = {t.helpdesk_id: t for t in recent}
    for c in clusters:
        c.baseline_count = count_matching(
            [by_id[i] for i in c.ticket_ids],
            before,
            similarity=repeat.similarity,
            ignore_tags=cfg.ignore_tags,
        )
        c.expected = round(c.baseline_count * repeat.window_days / repeat.baseline_days, 2)
    return clusters


BOOK_MIX_TTL_S = 3600.0  # the book's topic mix is a baseline: an hour-old one is fine
BOOK_MIX_CACHE_SIZE = 32  # a first run's history replay asks for 13 windows
_BookKey = tuple[str, datetime, datetime, str]
_BOOK_CACHE: dict[_BookKey, tuple[float, frozenset[str], BookMix]] = {}


def book_mix(session: Session, as_of: date, cfg: EscalationConfig, keys: frozenset[str]) -> BookMix:
    """The book's topic mix the repeated-issue rule compares an account's clusters with on
    `as_of`: the counts of the signatures `keys` in every account's tickets of the rule's
    window and baseline, and their total."""
    repeat = cfg.rule("repeated_issue")
    end = end_of_day(as_of)
    start = end - timedelta(days=repeat.window_days + repeat.baseline_days)
    return _book_mix(session, start, end, cfg, keys)


def _book_mix(
    session: Session, start: datetime, end: datetime, cfg: EscalationConfig, keys: frozenset[str]
) -> BookMix:
    """The counts of `keys` over every account's tickets in [start, end), and the ticket total.

    Cached per database, window and rule settings for `BOOK_MIX_TTL_S`: the account batches
    of one run and the near-real-time refreshes of one account (a webhook each) share one
    read of the book instead of re-reading every ticket of the window each time. A batch
    asking for a signature the cached mix does not hold reads it with the ones it holds (the
    counts hold an entry for every signature read, zeros included)."""
    excluded = excluded_tags(cfg)
    settings = mix_settings(cfg)  # every tag setting the mix is counted under
    key = (str(session.get_bind().engine.url), start, end, settings)
    now = time.monotonic()
    hit = _BOOK_CACHE.get(key)
    if hit is not None and now - hit[0] < BOOK_MIX_TTL_S:
        if keys <= hit[1]:
            return hit[2]
        keys = keys | hit[1]
    if len(_BOOK_CACHE) >= BOOK_MIX_CACHE_SIZE:
        _BOOK_CACHE.clear()
    mix = _read_book_mix(session, start, end, excluded, settings, cfg, keys)
    _BOOK_CACHE[key] = (now if hit is None else hit[0], frozenset(mix[0]), mix)
    return mix


def prepare_book_mix(
    session: Session, as_of: date, cfg: EscalationConfig, account_ids: list[int] | None = None
) -> None:
    """Count every signature the accounts' clusters (every account's, or the given ones')
    carry on `as_of` in one read, before a run gathers them in batches: each batch would
    otherwise ask for its own new signatures, a read of the book each (a first run has ~200
    batches at 50,000 accounts). The batches then find them all in the cache."""
    if not cfg.rule("repeated_issue").book_norm:
        return
    keys = book_signatures(session, end_of_day(as_of), cfg, account_ids)
    if keys:
        book_mix(session, as_of, cfg, keys)


def clear_book_cache() -> None:
    """Forget cached topic mixes (tests that rewrite one database's tickets within the hour)."""
    _BOOK_CACHE.clear()


def _read_book_mix(
    session: Session,
    start: datetime,
    end: datetime,
    excluded: frozenset[str],
    settings: str,
    cfg: EscalationConfig,
    keys: frozenset[str],
) -> BookMix:
    """Whole UTC days come from the days kept in the database, re-counting only those whose
    tickets changed (escalation/book_days.py); any other range is counted outright."""

    def count(
        ranges: list[tuple[datetime, datetime]], wanted: frozenset[str], narrow: bool
    ) -> DayCounts:
        return count_days(session, ranges, excluded, cfg, wanted, narrow)

    if is_midnight(start) and is_midnight(end):
        return read_mix(session, start, end, settings, count, keys)
    counts, total = sum_days(count([(start, end)], keys, False))
    return Counter({k: counts[k] for k in keys}), total


def _add_book_norm(
    clusters: list[IssueCluster],
    recent: list[TicketFact],
    before: list[TicketFact],
    book: BookMix,
    cfg: EscalationConfig,
) -> list[BookNorm]:
    """Each cluster's count the rest of the book's topic mix predicts for this account's
    volume; returns what was read of the mix (kept so a later run can tell whether it moved)."""
    own = problem_tickets(recent + before, cfg)
    own_counts: Counter[str] = Counter()
    for t in own:
        own_counts.update(signature_keys(t.subject, t.tags, cfg.ignore_tags))
    volume = len(problem_tickets(recent, cfg))
    norms = []
    for c in clusters:
        sig = c.signature
        c.book_expected = book_expected(book, sig, volume, own_counts[sig], len(own))
        norms.append(BookNorm(sig, volume, own_counts[sig], len(own), c.book_expected))
    return norms
