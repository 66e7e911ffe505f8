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

Only the signatures asked for are counted (`keys`: those some account's clusters carry), not
every tag, word and word pair of the window: a real helpdesk's subjects are mostly distinct,
so the whole mix is ~600,000 signatures per 100,000 tickets (~59 MiB a counter, per day kept
and summed), while the rule reads one count per cluster. A day's row holds a count for every
signature it tracks, zeros included, so what it covers is explicit; a signature a day does
not track yet is counted on the kept days in one more read, filtered in SQL to the tickets
whose subject or tags could carry it (`key_filter`), and tracked from then on.
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
# counts `keys` in the tickets created in the given [start, end) ranges, per day; with
# `narrow`, only tickets that could carry one of them are read (`key_filter`)
CountDays = Callable[[list[tuple[datetime, datetime]], frozenset[str], bool], DayCounts]
FILTER_KEYS = 64  # past this many signatures a narrowed read is no cheaper than a whole one
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
    session: Session,
    start: datetime,
    end: datetime,
    settings: str,
    count_days: CountDays,
    keys: frozenset[str],
) -> BookMix:
    """The counts of `keys` over [start, end) (UTC midnights) and the ticket total: kept days
    whose digest still holds, the others counted again by `count_days` and kept for the next
    run; signatures a kept day does not track yet are counted on it and tracked from then on."""
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
    days = _recount(count_days, stale, kept, keys)
    short = {  # kept days still true that do not track every signature asked for
        d: keys - row.counts.keys()
        for d, row in kept.items()
        if d in digests and d not in days and not keys <= row.counts.keys()
    }
    days.update(_fill(count_days, short, kept))
    counts: Counter[str] = Counter({k: 0 for k in keys})
    total = 0
    for d in digests:
        day_counts, day_total = days[d] if d in days else (kept[d].counts, kept[d].total)
        for k in keys:
            counts[k] += day_counts.get(k, 0)
        total += day_total
    _keep(session, settings, first, {d: (digests[d], *days[d]) for d in days})
    return counts, total


def _recount(
    count_days: CountDays, stale: list[date], kept: dict[date, BookMixDay], keys: frozenset[str]
) -> DayCounts:
    """The stale days counted again: `keys` and what each tracked before."""
    if not stale:
        return {}
    tracked = set(keys)
    for d in stale:
        tracked.update(kept[d].counts if d in kept else ())
    fresh = count_days(_ranges(stale), frozenset(tracked), False)
    return {d: _counted(fresh.get(d, (Counter(), 0)), tracked) for d in stale}


def _fill(
    count_days: CountDays, short: dict[date, frozenset[str]], kept: dict[date, BookMixDay]
) -> DayCounts:
    """Kept days with the signatures they lacked counted in one narrowed read (their tickets
    did not change: their total stands)."""
    if not short:
        return {}
    extra = count_days(_ranges(sorted(short)), frozenset().union(*short.values()), True)
    out: DayCounts = {}
    for d, missing in short.items():
        counts = Counter(kept[d].counts)
        found = extra.get(d, (Counter(), 0))[0]
        counts.update({k: found[k] for k in missing})
        out[d] = (counts, kept[d].total)
    return out


def _counted(fresh: BookMix, keys: Iterable[str]) -> BookMix:
    """A day's counts with a zero for every key it tracks and did not see."""
    counts, total = fresh
    return Counter({k: counts.get(k, 0) for k in keys}), total


def key_filter(keys: Iterable[str], subject: Any, tags: Any) -> ColumnElement[bool] | None:
    """A SQL condition every ticket that could carry one of `keys` meets (`subject` and the
    `tags` column's JSON text; the Python count then decides), or None when it cannot be
    narrowed. A signature is made of lower-cased ASCII words (escalation/clusters.py), so a
    ticket carrying it holds each word in any case; the only characters whose lower case is
    ASCII are U+0130 and U+212A, and JSON escapes any non-ASCII tag as \\uXXXX: those tickets
    are always read."""
    keys = list(keys)
    if not keys or len(keys) > FILTER_KEYS:
        return None
    terms: list[ColumnElement[bool]] = []
    for key in keys:
        kind, _, rest = key.partition("-")
        if kind == "subj":
            terms.append(and_(*(subject.ilike(f"%{w}%") for w in rest.split("-"))))
        elif kind == "tag" and rest != "x":
            terms.append(tags.ilike("%" + "%".join(p for p in rest.split("_") if p) + "%"))
        else:
            return None  # a tag of no letters or digits: its key says nothing to look for
    odd = [subject.contains(c, autoescape=True) for c in ("\u0130", "\u212a")]
    return or_(*terms, *odd, tags.contains("\\u", autoescape=True))


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
