"""What the repeated-issue rule counts of the whole book (read-only SQL): the tickets that are
problems, the clusters' signatures every account carries, and the topic mix's per-day counts
(kept and summed by escalation/book_days.py, cached per run by escalation/ticket_facts.py)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta
from itertools import groupby
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from escalation.book_days import DayCounts, in_ranges, key_filter
from escalation.book_norms import BookMix
from escalation.clusters import IssueCluster, TicketFact, find_clusters, signature_keys
from escalation.config import EscalationConfig
from model.json_text import ListCache, as_text, decode_list
from model.own_tags import customer_tags
from model.sql_days import as_date, utc_day
from model.tables import Ticket

# distinct (day, subject, tags) held before they are folded into counts: a book repeats some
# subjects, a real helpdesk's are mostly distinct (~250 bytes each held)
FOLD_AT = 20_000


def rule_tags(raw: Sequence[str], cfg: EscalationConfig) -> list[str] | None:
    """A ticket's tags as the rule reads them, less the health/risk tags pulsehub wrote (no
    problem of the customer's); None for an engineering ticket pulsehub opened (never one of
    the customer's). `add_ticket_facts` and `book_signatures` both read tickets through it, so
    the signatures prepared for a run are the ones its batches cluster."""
    if set(cfg.engineering_ticket.tags).intersection(raw):
        return None
    return customer_tags(raw, cfg.written_tags)


def problem_tickets(rows: list[TicketFact], cfg: EscalationConfig) -> list[TicketFact]:
    excluded = {t.lower() for t in cfg.rule("repeated_issue").exclude_tags}
    return [t for t in rows if not excluded.intersection(g.lower() for g in t.tags)]


def window_clusters(problems: list[TicketFact], cfg: EscalationConfig) -> list[IssueCluster]:
    repeat = cfg.rule("repeated_issue")
    return find_clusters(
        sorted(problems, key=lambda x: x.helpdesk_id),
        min_tickets=repeat.min_tickets,
        similarity=repeat.similarity,
        ignore_tags=cfg.ignore_tags,
    )


def book_signatures(
    session: Session, end: datetime, cfg: EscalationConfig, account_ids: list[int] | None = None
) -> frozenset[str]:
    """The signatures every account's clusters (or the given accounts') carry in the rule's
    window ending at `end`: what the batches of one run will ask of the book's mix, found in
    one streamed read of the window's tickets in account order, clustered an account at a
    time (as `add_ticket_facts` clusters them)."""
    start = end - timedelta(days=cfg.rule("repeated_issue").window_days)
    query = (
        select(Ticket.account_id, Ticket.helpdesk_id, Ticket.subject, as_text(Ticket.tags))
        .where(Ticket.account_id.is_not(None), Ticket.created_at >= start)
        .where(Ticket.created_at < end)
        .order_by(Ticket.account_id)
        .execution_options(yield_per=10_000)
    )
    if account_ids is None:
        return _signatures(session.execute(query), cfg)
    keys: set[str] = set()
    for at in range(0, len(account_ids), 1_000):
        chunk = account_ids[at : at + 1_000]
        keys |= _signatures(session.execute(query.where(Ticket.account_id.in_(chunk))), cfg)
    return frozenset(keys)


def _signatures(rows: Any, cfg: EscalationConfig) -> frozenset[str]:
    """The cluster signatures of ticket rows (account id, helpdesk id, subject, tags text)
    in account order."""
    start = datetime.min  # clustering reads no ticket's time
    decoded: ListCache = {}
    keys: set[str] = set()
    for _, tickets in groupby(rows, key=lambda r: r.account_id):
        facts = []
        for t in tickets:
            tags = rule_tags(decode_list(t.tags, decoded), cfg)
            if tags is not None:
                facts.append(TicketFact(t.helpdesk_id, "", start, t.subject or "", tags=tags))
        keys.update(c.signature for c in window_clusters(problem_tickets(facts, cfg), cfg))
    return frozenset(keys)


def excluded_tags(cfg: EscalationConfig) -> frozenset[str]:
    """Tags whose tickets the mix leaves out: the rule's excluded tags and pulsehub's own
    engineering tickets."""
    return frozenset(
        t.lower() for t in [*cfg.rule("repeated_issue").exclude_tags, *cfg.engineering_ticket.tags]
    )


def count_window(
    session: Session,
    start: datetime,
    end: datetime,
    cfg: EscalationConfig,
    keys: frozenset[str] | None = None,
) -> BookMix:
    """The topic mix of [start, end) counted outright from every account's tickets — every
    signature, or only `keys` —, with no kept days read or written (what they must add up to)."""
    return sum_days(count_days(session, [(start, end)], excluded_tags(cfg), cfg, keys))


def sum_days(days: DayCounts) -> BookMix:
    counts: Counter[str] = Counter()
    total = 0
    for day_counts, day_total in days.values():
        counts.update(day_counts)
        total += day_total
    return counts, total


def count_days(
    session: Session,
    ranges: list[tuple[datetime, datetime]],
    excluded: frozenset[str],
    cfg: EscalationConfig,
    keys: frozenset[str] | None = None,
    narrow: bool = False,
) -> DayCounts:
    """Counts of the signatures `keys` (None: every one) and ticket totals per UTC day of every
    account's tickets created in `ranges`; with `narrow`, only the tickets that could carry one
    of `keys` are read (`key_filter`), and the totals count only those. Streamed: memory holds
    the distinct (day, subject, tags), folded into counts whenever they pass `FOLD_AT`, never
    the tickets."""
    day = utc_day(session, Ticket.created_at)
    query = (
        select(day, Ticket.subject, as_text(Ticket.tags))
        .where(Ticket.account_id.is_not(None))
        .where(in_ranges(Ticket.created_at, ranges))
    )
    if narrow and keys is not None:
        where = key_filter(keys, Ticket.subject, as_text(Ticket.tags))
        if where is not None:
            query = query.where(where)
    rows = session.execute(query.execution_options(yield_per=10_000))
    distinct: Counter[tuple[Any, str, tuple[str, ...]]] = Counter()
    out: dict[Any, tuple[Counter[str], int]] = {}

    def fold() -> None:
        for (on, subject, tags), n in distinct.items():
            counts, total = out.get(on) or (Counter(), 0)
            found = signature_keys(subject, tags, cfg.ignore_tags)
            for sig in found if keys is None else found & keys:
                counts[sig] += n
            out[on] = (counts, total + n)
        distinct.clear()

    decoded: ListCache = {}
    own: dict[tuple[str, ...], tuple[str, ...]] = {}  # per distinct tag list, like `decoded`
    written = cfg.written_tags
    for on, subject, raw in rows:
        tags = decode_list(raw, decoded)
        if not excluded.intersection(g.lower() for g in tags):
            if (theirs := own.get(tags)) is None:
                theirs = own[tags] = tuple(customer_tags(tags, written))
            distinct[(on, subject or "", theirs)] += 1
            if len(distinct) >= FOLD_AT:
                fold()
    fold()
    return {as_date(on): mix for on, mix in out.items()}
