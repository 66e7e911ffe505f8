"""The book's topic mix kept per day, so a run re-counts only the days whose tickets changed.

The repeated-issue rule compares an account's clusters with the book's topic mix over the
rule's window and baseline (escalation/ticket_facts.py). Counting it means reading every
ticket of those days: ~10 s at 50,000 accounts, in every hourly run in which new tickets
arrived (most of them). The mix is a sum over days, so each day's part is kept in
`book_mix_days` with the digest of the tickets it was counted from — which tickets (count,
sum of ids) and what they say (sum and count of `content_key`, a fingerprint of subject and
tags less band tags) — under a hash of the rule's tag settings. A run reads every day's
digest in one grouped query, re-counts only the days whose digest moved (today's, mostly)
in one read, and adds the kept days to them. The sum is the full read's (a test compares
them). The rows are derived: a dry run's roll back with it, and a lost row costs one re-count.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Table, and_, delete, func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from escalation.book_norms import BookMix
from escalation.config import EscalationConfig
from model.sql_days import as_date, utc_day
from model.tables import BookMixDay, Ticket
from model.upsert import upsert_rows

DayCounts = dict[date, BookMix]
# counts the tickets created in the given [start, end) ranges, per day
CountDays = Callable[[list[tuple[datetime, datetime]]], DayCounts]
KEEP_BEFORE = timedelta(days=31)
TABLE: Table = BookMixDay.__table__  # type: ignore[assignment]  # day rows this far before a window's start are dropped


def mix_settings(config: EscalationConfig) -> str:
    """A hash of every setting the mix is counted under: the tags that take a ticket out
    (excluded, engineering), are not a topic (ignored), or are pulsehub's own (written)."""
    repeat = config.rule("repeated_issue")
    settings = (
        sorted(repeat.exclude_tags), sorted(config.engineering_ticket.tags),
        sorted(config.ignore_tags), sorted(config.written_tags),
    )  # fmt: skip
    return hashlib.sha256(repr(settings).encode()).hexdigest()


def is_midnight(at: datetime) -> bool:
    return at.astimezone(UTC).time() == time.min


def day_digests(session: Session, start: datetime, end: datetime) -> dict[date, str]:
    """Each day's digest of the tickets the mix counts (every account's, created that day)."""
    day = utc_day(session, Ticket.created_at)
    rows = session.execute(
        select(
            day, func.count(), func.sum(Ticket.id), func.sum(Ticket.content_key),
            func.count(Ticket.content_key),
        )
        .where(Ticket.account_id.is_not(None))
        .where(Ticket.created_at >= start, Ticket.created_at < end)
        .group_by(day)
    )  # fmt: skip
    return {as_date(d): ":".join(str(int(v or 0)) for v in rest) for d, *rest in rows}


def read_mix(
    session: Session, start: datetime, end: datetime, settings: str, count_days: CountDays
) -> BookMix:
    """The mix over [start, end) (UTC midnights): kept days whose digest still holds, the
    others counted again by `count_days` and kept for the next run."""
    digests = day_digests(session, start, end)
    first, last = start.astimezone(UTC).date(), end.astimezone(UTC).date()
    kept = {
        row.day: row
        for row in session.scalars(
            select(BookMixDay).where(
                BookMixDay.settings == settings, BookMixDay.day >= first, BookMixDay.day < last
            )
        )
    }
    stale = sorted(d for d, digest in digests.items() if _digest(kept.get(d)) != digest)
    fresh = count_days(_ranges(stale)) if stale else {}
    recounted = {d: fresh.get(d, (Counter(), 0)) for d in stale}  # a day may count nothing
    counts: Counter[str] = Counter()
    total = 0
    for day_counts, day_total in recounted.values():
        counts.update(day_counts)
        total += day_total
    for day, row in kept.items():
        if day in digests and day not in recounted:
            counts.update(row.counts)
            total += row.total
    _keep(session, settings, first, {d: (digests[d], *recounted[d]) for d in stale})
    return counts, total


def _digest(row: BookMixDay | None) -> str | None:
    return None if row is None else row.digest


def _ranges(days: Iterable[date]) -> list[tuple[datetime, datetime]]:
    """Runs of consecutive days as [start, end) datetime ranges (one read covers them all)."""
    out: list[tuple[datetime, datetime]] = []
    for day in days:
        start = datetime.combine(day, time.min, tzinfo=UTC)
        if out and out[-1][1] == start:
            out[-1] = (out[-1][0], start + timedelta(days=1))
        else:
            out.append((start, start + timedelta(days=1)))
    return out


def in_ranges(column: Any, ranges: list[tuple[datetime, datetime]]) -> ColumnElement[bool]:
    return or_(*(and_(column >= a, column < b) for a, b in ranges))


def _keep(
    session: Session,
    settings: str,
    first: date,
    days: dict[date, tuple[str, Counter[str], int]],
) -> None:
    """Store the re-counted days, and drop rows long before the window (it only moves on)."""
    session.execute(delete(BookMixDay).where(BookMixDay.day < first - KEEP_BEFORE))
    rows = [
        {"settings": settings, "day": day, "digest": digest, "total": total,
         "counts": dict(counts), "computed_at": datetime.now(UTC)}
        for day, (digest, counts, total) in days.items()
    ]  # fmt: skip
    for at in range(0, len(rows), 50):  # a day's counts can be large: a bounded statement
        upsert_rows(session, TABLE, rows[at : at + 50], key=["settings", "day"])
