"""Stored theme matches: which themes each survey comment and ticket mentions, matched once per
row and voice configuration, so a run does not run every theme's pattern over two periods of
verbatims again (issue 19: the voice stage was the largest O(book) cost of an unchanged run).

A row is (re)matched when it is new or pulsehub stored a change to it (`synced_at`: a pull's
upsert that changed its content, a link to an account), and every row is matched again when
the matching configuration changes (themes' keywords and tags: `match_key`). The matches are
rows of `survey_response_themes` / `ticket_themes`, deleted with their source row (ON DELETE
CASCADE), and the cursor `voice:matches` says under which configuration they were made and
up to which row stamp they are current: the refresh's time less `SLACK` (a change stamped just
before the refresh but committed after it read is matched again next time).
Readers (reporting/voice_themes.py) use the stored matches for rows stamped up to
`stored_until` and match the few rows stamped after it themselves, so what they compute equals
a match of every row from scratch.

Written in the caller's transaction (the voice stage's): a dry run, rolled back, leaves the
matches and their mark as the last committed run left them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import Integer, String, bindparam, delete, exists, insert, select
from sqlalchemy.orm import Session

from escalation.voice_config import VoiceConfig
from model.own_tags import OWN_TAG_PREFIXES, customer_tags
from model.tables import (
    SurveyResponse,
    SurveyResponseTheme,
    SyncCursor,
    Ticket,
    TicketTheme,
    utcnow,
)
from model.upsert import upsert_rows
from reporting.voice_themes import Matcher

MARK_STREAM = "voice:matches"
SLACK = dt.timedelta(seconds=10)  # > a writer's stamp-to-commit time and workers' clock skew
MATCHER_VERSION = "1"  # bump when Matcher's answer for the same configuration changes
BATCH = 2000


@dataclass(frozen=True)
class MatchMark:
    """The configuration the stored matches were made under, and the row stamp (ISO) up to
    which they are current."""

    config: str
    until: str


def match_key(config: VoiceConfig) -> str:
    """What the matches depend on: each theme's normalized keywords and tags, the matcher's
    version and the tags pulsehub writes itself (never matched). Labels, routing and
    thresholds do not change a match."""
    themes = {
        name: [
            sorted({k.strip().lower() for k in theme.keywords if k.strip()}),
            sorted({t.lower() for t in theme.tags}),
        ]
        for name, theme in config.themes.items()
    }
    text = json.dumps([MATCHER_VERSION, OWN_TAG_PREFIXES, themes], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def read_mark(session: Session) -> MatchMark | None:
    text = session.scalar(select(SyncCursor.value).where(SyncCursor.stream == MARK_STREAM))
    if not text:
        return None
    try:
        return MatchMark(**json.loads(text))
    except (TypeError, ValueError):  # written by another version: match everything again
        return None


def stored_until(session: Session, config: VoiceConfig) -> dt.datetime | None:
    """Up to which row stamp the stored matches hold for `config` (None: they do not, e.g.
    no voice stage has run yet or it ran under other themes: every row is matched afresh)."""
    mark = read_mark(session)
    if mark is None or mark.config != match_key(config):
        return None
    return dt.datetime.fromisoformat(mark.until)


@dataclass(frozen=True)
class Refreshed:
    """What `refresh_matches` did: `full` (every row matched again), how many rows, and the
    row stamp up to which the matches are now current."""

    full: bool
    surveys: int
    tickets: int
    until: dt.datetime


def refresh_matches(session: Session, config: VoiceConfig, now: dt.datetime) -> Refreshed:
    """Match the rows changed since the last mark (all rows under a new configuration) and
    mark the matches current up to `now` (read before any row is) less `SLACK`."""
    key, until = match_key(config), now - SLACK
    mark = read_mark(session)
    since: dt.datetime | None = None
    if mark is None or mark.config != key:
        session.execute(delete(SurveyResponseTheme))
        session.execute(delete(TicketTheme))
    else:
        since = dt.datetime.fromisoformat(mark.until)
    matcher = Matcher(config)
    surveys = _rematch(
        session,
        _changed(session, select(SurveyResponse.id, SurveyResponse.comment), SurveyResponse, since),
        lambda comment: matcher.themes(comment),
        SurveyResponseTheme,
        "response_id",
        SurveyResponse,
        replace=since is not None,
    )
    tickets = _rematch(
        session,
        _changed(session, select(Ticket.id, Ticket.subject, Ticket.tags), Ticket, since, pair=True),
        lambda row: matcher.themes(row[0], customer_tags(row[1] or [])),
        TicketTheme,
        "ticket_id",
        Ticket,
        replace=since is not None,
    )
    value = json.dumps(asdict(MatchMark(key, until.isoformat())))
    upsert_rows(
        session,
        SyncCursor.__table__,  # type: ignore[arg-type]
        [{"stream": MARK_STREAM, "value": value, "updated_at": utcnow()}],
        key=["stream"],
    )  # as sync/cursors.py saves a cursor (reporting does not import sync)
    return Refreshed(since is None, surveys, tickets, until)


def _changed(
    session: Session, query: Any, model: Any, since: dt.datetime | None, *, pair: bool = False
) -> Iterator[list[tuple[int, Any]]]:
    """Batches of (id, what is matched) of the rows stamped after `since` (all rows: None),
    by id pages, so memory stays one batch whatever the book's size."""
    last = 0
    while True:
        stmt = query.where(model.id > last).order_by(model.id).limit(BATCH)
        if since is not None:
            stmt = stmt.where(model.synced_at > since)
        rows = session.execute(stmt).all()
        if not rows:
            return
        yield [(r[0], (r[1], r[2]) if pair else r[1]) for r in rows]
        last = rows[-1][0]


def _rematch(
    session: Session,
    batches: Iterable[list[tuple[int, Any]]],
    themes_of: Any,
    table: Any,
    column: str,
    source: Any,
    *,
    replace: bool,
) -> int:
    """Store each row's themes in place of what was stored for it. A row deleted since it was
    read (an erasure committing meanwhile) gets none: the insert only adds matches of rows
    that still exist, so it never fails on the foreign key."""
    core = table.__table__  # Core statements: executemany, not the ORM's bulk insert
    add = insert(core).from_select(
        [column, "theme"],
        select(bindparam("row", type_=Integer), bindparam("theme", type_=String)).where(
            exists().where(source.id == bindparam("row", type_=Integer))
        ),
    )
    n = 0
    for batch in batches:
        n += len(batch)
        if replace:
            session.execute(delete(core).where(core.c[column].in_([i for i, _ in batch])))
        found = [{"row": i, "theme": t} for i, value in batch for t in themes_of(value)]
        if found:
            session.execute(add, found)
    return n
