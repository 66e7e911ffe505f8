"""Stored theme matches: which themes each survey comment and ticket mentions, matched once per
row and voice configuration, so a run does not run every theme's pattern over two periods of
verbatims again (issue 19: the voice stage was the largest O(book) cost of an unchanged run).

A row is (re)matched when it is new or pulsehub stored a change to it (`synced_at`: a pull's
upsert that changed its content, a link to an account), and every row is matched again when
the matching configuration changes (themes' keywords and tags: `match_key`). The matches are
rows of `survey_response_themes` / `ticket_themes`, deleted with their source row (ON DELETE
CASCADE), and the cursor `voice:matches` says under which configuration they were made, up to
which row stamp they are current (the refresh's time less the marks' margin, model/marks.py:
a change stamped just before the refresh but committed after it read is matched again next
time) and from which
row time (`horizon`, when the row was responded to or created) on: only rows the stage's two
periods can reach are matched, the horizon moving back when a run evaluates an earlier day
(a longer period, a replay), never forward (a row ages out of the periods, its match stays).
Readers (reporting/voice_themes.py `Stored`) use the stored matches for the rows they answer
for and match the others (changed since, or older than the horizon) themselves, so what they
compute equals a match of every row from scratch.

Written in the caller's transaction (the voice stage's): a dry run, rolled back, leaves the
matches and their mark as the last committed run left them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Integer, String, bindparam, delete, exists, insert, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from escalation.voice_config import VoiceConfig
from model import marks
from model.own_tags import OWN_TAG_PREFIXES, customer_tags
from model.tables import (
    SurveyResponse,
    SurveyResponseTheme,
    Ticket,
    TicketTheme,
)
from reporting.voice_themes import Matcher, Stored

MARK_STREAM = "voice:matches"
MATCHER_VERSION = "1"  # bump when Matcher's answer for the same configuration changes
BATCH = 2000


@dataclass(frozen=True)
class MatchMark:
    """The configuration the stored matches were made under, the row stamp up to which they
    are current and the row time from which on they cover rows (ISO texts)."""

    config: str
    until: str
    horizon: str


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
    return marks.read_mark(session, MARK_STREAM, MatchMark)  # None: match everything again


def stored_matches(session: Session, config: VoiceConfig) -> Stored | None:
    """Which rows the stored matches answer for under `config` (None: none do, e.g. no voice
    stage has run yet or it ran under other themes: every row is matched afresh)."""
    mark = read_mark(session)
    if mark is None or mark.config != match_key(config):
        return None
    return Stored(dt.datetime.fromisoformat(mark.until), dt.datetime.fromisoformat(mark.horizon))


@dataclass(frozen=True)
class Refreshed:
    """What `refresh_matches` did: `full` (every row in reach matched again), how many rows
    were matched, and which rows the stored matches now answer for."""

    full: bool
    surveys: int
    tickets: int
    stored: Stored


def refresh_matches(
    session: Session, config: VoiceConfig, now: dt.datetime, horizon: dt.datetime
) -> Refreshed:
    """Match the rows changed since the last mark, and rows from `horizon` on not covered
    yet (every row from `horizon` on under a new configuration); mark the matches current up
    to `now` (read before any row is) less the marks' margin (model/marks.py)."""
    key, until = match_key(config), marks.watermark(now)
    mark = read_mark(session)
    matcher = Matcher(config)
    sources = [_Source(SurveyResponse, matcher), _Source(Ticket, matcher)]
    counts = [0, 0]
    if mark is None or mark.config != key:
        full = True
        session.execute(delete(SurveyResponseTheme))
        session.execute(delete(TicketTheme))
        for n, src in enumerate(sources):
            counts[n] += src.rematch(session, [src.at >= horizon], replace=False)
        if session.get_bind().dialect.name == "postgresql":  # the planner sees the new rows
            session.execute(text("ANALYZE survey_response_themes, ticket_themes"))
    else:
        full = False
        since = dt.datetime.fromisoformat(mark.until)
        covered = dt.datetime.fromisoformat(mark.horizon)
        for n, src in enumerate(sources):
            counts[n] += src.rematch(session, [src.model.synced_at > since], replace=True)
            if horizon < covered:  # an earlier day: reach back (rows changed since are done)
                old = [src.at >= horizon, src.at < covered]
                unchanged = (src.model.synced_at <= since) | src.model.synced_at.is_(None)
                counts[n] += src.rematch(session, [*old, unchanged], replace=True)
        horizon = min(horizon, covered)
    mark = MatchMark(key, until.isoformat(), horizon.isoformat())
    marks.save_mark(session, MARK_STREAM, mark)
    return Refreshed(full, counts[0], counts[1], Stored(until, horizon))


class _Source:
    """Survey comments or tickets: what is matched of a row, and where its themes are kept."""

    def __init__(self, model: Any, matcher: Matcher) -> None:
        self.model, self.matcher = model, matcher
        if model is SurveyResponse:
            self.at = SurveyResponse.responded_at
            self.columns: tuple[Any, ...] = (SurveyResponse.comment,)
            self.table: Any = SurveyResponseTheme.__table__
            self.column = "response_id"
        else:
            self.at = Ticket.created_at
            self.columns = (Ticket.subject, Ticket.tags)
            self.table = TicketTheme.__table__
            self.column = "ticket_id"

    def themes(self, row: Any) -> list[str]:
        if self.model is SurveyResponse:
            return self.matcher.themes(row[1])
        return self.matcher.themes(row[1], customer_tags(row[2] or []))

    def rematch(self, session: Session, where: list[Any], *, replace: bool) -> int:
        """Store the themes of the rows `where` picks in place of what was stored for them,
        a page of rows at a time (memory stays one page whatever the book's size)."""
        model, core = self.model, self.table
        n, last = 0, 0
        while True:
            rows = session.execute(
                select(model.id, *self.columns)
                .where(model.id > last, *where)
                .order_by(model.id)
                .limit(BATCH)
            ).all()
            if not rows:
                return n
            n, last = n + len(rows), rows[-1][0]
            if replace:
                ids = [r[0] for r in rows]
                session.execute(delete(core).where(core.c[self.column].in_(ids)))
            found = [{self.column: r[0], "theme": t} for r in rows for t in self.themes(r)]
            if found:
                self._insert(session, found)

    def _insert(self, session: Session, found: list[dict[str, Any]]) -> None:
        """One multi-row insert; when a row was deleted since it was read (an erasure
        committing meanwhile) and the foreign key refuses its match, the page again with each
        match added only if its row still exists."""
        try:
            with session.begin_nested():
                session.execute(insert(self.table), found)
        except IntegrityError:
            row = bindparam("row", type_=Integer)
            guarded = insert(self.table).from_select(
                [self.column, "theme"],
                select(row, bindparam("theme", type_=String)).where(
                    exists().where(self.model.id == row)
                ),
            )
            session.execute(guarded, [{"row": f[self.column], "theme": f["theme"]} for f in found])
