"""Feedback themes: which survey comments and tickets mention which theme, and what that weighs.

Mentions are read for two periods (the last `period_days` up to the as-of day, and the
`period_days` before): survey comments and ticket subjects matched against each theme's
keywords, and ticket tags against its tags. Helpdesk satisfaction ratings are read from their
tickets, never pulled twice.

Impact weights by customer value so a vocal small account does not outweigh the base: each
account mentioning a theme in a period counts once, with its ARR times its strongest
negativity (`reporting.voice_scales`) over its mentions of the theme:

    impact(theme, period) = sum over distinct accounts a of ARR(a) x max negativity(a)

affected ARR is the same sum without the negativity; volume counts every mention.

Which rows mention which theme is stored (reporting/voice_matches.py): the figures are SQL
aggregates over the stored matches (one row per theme, period and account: mentions, the
strongest negativity, NPS mentions and detractors), streamed, plus the rows changed since
the matches were stored (or older than their horizon), matched here. Nothing holds the book's texts or a per-account map
of it. Sums are exact (`ExactSum`), so the figures do not depend on the order rows arrive in.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    and_,
    case,
    exists,
    func,
    literal,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import Session

from escalation.voice_config import VoiceConfig
from model.own_tags import customer_tags
from model.tables import Account, SurveyResponse, SurveyResponseTheme, Ticket, TicketTheme
from reporting.voice_scales import (
    negativity,
    negativity_sql,
    nps_category,
    ticket_negativity,
    ticket_negativity_sql,
)

PAGE = 2000  # rows per page where texts are read


class ExactSum:
    """A float sum rounded once, at the end (Shewchuk's partials, as `math.fsum`), so adding
    the same numbers in any order gives the same float."""

    __slots__ = ("_partials",)

    def __init__(self) -> None:
        self._partials: list[float] = []

    def add(self, x: float) -> None:
        i = 0
        for y in self._partials:
            if abs(x) < abs(y):
                x, y = y, x
            hi = x + y
            lo = y - (hi - x)
            if lo:
                self._partials[i] = lo
                i += 1
            x = hi
        self._partials[i:] = [x]

    @property
    def value(self) -> float:
        return math.fsum(self._partials)


@dataclass
class AccountMentions:
    """One account's mentions of one theme in one period."""

    volume: int = 0
    worst: float = 0.0  # the strongest negativity among them
    nps_mentions: int = 0
    detractors: int = 0

    def add(self, kind: str, score: float | None, csat: str | None, n: int = 1) -> None:
        worst = ticket_negativity(csat) if kind == "ticket" else negativity(kind, score or 0.0)
        self.worst = worst if self.volume == 0 else max(self.worst, worst)
        self.volume += n
        if kind == "nps" and score is not None:
            self.nps_mentions += n
            self.detractors += n if nps_category(score) == "detractor" else 0

    def merge(self, other: AccountMentions) -> None:
        if other.volume:
            self.worst = other.worst if self.volume == 0 else max(self.worst, other.worst)
        self.volume += other.volume
        self.nps_mentions += other.nps_mentions
        self.detractors += other.detractors


@dataclass(frozen=True)
class AccountValue:
    """What an account weighs: its ARR when live (a deleted account weighs 0), its ARR as
    stored (a segment's share counts it either way) and its segment."""

    live_arr: float
    arr: float
    segment: str | None

    @classmethod
    def of(cls, arr: float | None, is_deleted: bool | None, segment: str | None) -> AccountValue:
        stored = float(arr or 0.0)
        return cls(stored if is_deleted is False else 0.0, stored, segment)


@dataclass
class PeriodStats:
    """One theme in one period, added account by account."""

    volume: int = 0
    accounts: int = 0
    nps_mentions: int = 0
    detractors: int = 0
    _affected: ExactSum = field(default_factory=ExactSum)
    _impact: ExactSum = field(default_factory=ExactSum)

    def add(self, m: AccountMentions, value: AccountValue) -> None:
        self.volume += m.volume
        self.accounts += 1
        self.nps_mentions += m.nps_mentions
        self.detractors += m.detractors
        self._affected.add(value.live_arr)
        self._impact.add(value.live_arr * m.worst)

    @property
    def affected_arr(self) -> float:
        return self._affected.value

    @property
    def impact(self) -> float:
        """Sum over distinct accounts of ARR x their strongest negativity (each account once)."""
        return self._impact.value

    def detractor_share(self) -> float | None:
        return None if not self.nps_mentions else 100.0 * self.detractors / self.nps_mentions


@dataclass
class ThemeStats:
    """A theme's current and previous period, its largest affected account this period and
    the affected ARR per segment."""

    theme: str
    label: str
    now: PeriodStats = field(default_factory=PeriodStats)
    before: PeriodStats = field(default_factory=PeriodStats)
    top: tuple[float, int] | None = None  # (ARR, -account id) of the largest account
    segments: dict[str | None, ExactSum] = field(default_factory=dict)

    def add(self, current: bool, account: int, m: AccountMentions, value: AccountValue) -> None:
        if not current:
            self.before.add(m, value)
            return
        self.now.add(m, value)
        rank = (value.live_arr, -account)
        if self.top is None or rank > self.top:
            self.top = rank
        self.segments.setdefault(value.segment, ExactSum()).add(value.arr)

    @property
    def top_account_id(self) -> int | None:
        return None if self.top is None else -self.top[1]

    @property
    def top_segment(self) -> str | None:
        """The segment holding most of the affected ARR (ties: the first by name, no segment
        last)."""
        if not self.segments:
            return None
        best = min(self.segments.items(), key=lambda kv: (-kv[1].value, kv[0] is None, kv[0] or ""))
        return best[0]


@dataclass(frozen=True)
class Window:
    """The two periods compared: [prev_start, start) and [start, end)."""

    prev_start: dt.datetime
    start: dt.datetime
    end: dt.datetime

    @classmethod
    def ending(cls, as_of: dt.date, days: int) -> Window:
        end = dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time(), dt.UTC)
        start = end - dt.timedelta(days=days)
        return cls(start - dt.timedelta(days=days), start, end)


class Matcher:
    """Matches texts and tags against the configured themes."""

    def __init__(self, config: VoiceConfig) -> None:
        self.patterns: dict[str, re.Pattern[str]] = {}
        self.tags: dict[str, set[str]] = {}
        for name, theme in config.themes.items():
            pattern = theme.pattern()
            if pattern is not None:
                self.patterns[name] = pattern
            self.tags[name] = {t.lower() for t in theme.tags}

    def themes(self, text: str | None, tags: Iterable[str] = ()) -> list[str]:
        """Every theme `text` or `tags` mention, in configuration order."""
        lowered = {t.lower() for t in tags}
        return [
            name
            for name, theme_tags in self.tags.items()
            if (lowered & theme_tags)
            or (text and name in self.patterns and self.patterns[name].search(text))
        ]


Key = tuple[str, bool, int]  # theme, current period, account


@dataclass(frozen=True)
class Stored:
    """Which rows the stored theme matches (reporting/voice_matches.py) answer for: those
    stamped (`synced_at`) up to `until` whose time (responded to, created) is at or after
    `horizon`. The other rows are matched where they are read."""

    until: dt.datetime
    horizon: dt.datetime

    def fresh(self, stamp: Any, at: Any, lower: dt.datetime) -> Any:
        """The clause picking rows to match on the spot among rows from `lower` on."""
        clause = stamp > self.until
        return or_(clause, at < self.horizon) if self.horizon > lower else clause

    def kept(self, stamp: Any, at: Any, lower: dt.datetime) -> Any:
        """The clause picking rows the stored matches answer for, among rows from `lower` on."""
        clause = or_(stamp <= self.until, stamp.is_(None))
        return and_(clause, at >= self.horizon) if self.horizon > lower else clause

    def is_fresh(self, stamp: dt.datetime | None, at: dt.datetime) -> bool:
        return (stamp is not None and stamp > self.until) or at < self.horizon


def account_arr(session: Session) -> dict[int, float]:
    """Each live account's ARR (0 when unknown)."""
    rows = session.execute(select(Account.id, Account.arr).where(Account.is_deleted.is_(False)))
    return {a: float(arr or 0.0) for a, arr in rows}


def book_arr(session: Session) -> float:
    """The live book's ARR, summed exactly (as `sum(account_arr(session).values())` would be
    up to order), without a per-account map."""
    rows = session.execute(
        select(Account.arr).where(Account.is_deleted.is_(False)),
        execution_options={"yield_per": 5000},
    ).scalars()
    return math.fsum(float(a or 0.0) for a in rows)


def theme_stats(
    session: Session, config: VoiceConfig, as_of: dt.date, *, stored: Stored | None
) -> tuple[list[ThemeStats], Window]:
    """Every configured theme's two periods: the stored matches where they answer, the other
    rows matched here (`stored` None: every row is)."""
    window = Window.ending(as_of, config.period_days)
    stats = {n: ThemeStats(n, t.label) for n, t in config.themes.items()}
    fresh, values = _fresh(session, Matcher(config), window, stored)
    rows = _stored(session, window, stored) if stored is not None else iter(())
    for key, m, value in rows:
        extra = fresh.pop(key, None)
        if extra is not None:
            m.merge(extra)
        if key[0] in stats:
            stats[key[0]].add(key[1], key[2], m, value)
    for key, m in fresh.items():
        if key[0] in stats:
            stats[key[0]].add(key[1], key[2], m, values[key[2]])
    return list(stats.values()), window


def _in_window(at: Any, account: Any, window: Window) -> list[Any]:
    return [account.is_not(None), at >= window.prev_start, at < window.end]


def _fresh(
    session: Session, matcher: Matcher, window: Window, stored: Stored | None
) -> tuple[dict[Key, AccountMentions], dict[int, AccountValue]]:
    """The mentions of rows the stored matches do not answer for (every row: None), matched
    here, per theme, period and account, with what their accounts weigh."""
    out: dict[Key, AccountMentions] = {}
    values: dict[int, AccountValue] = {}
    r, t, a = SurveyResponse, Ticket, Account
    surveys = (
        select(r.account_id, r.responded_at, r.kind, r.score, r.comment,
               a.arr, a.is_deleted, a.segment)
        .outerjoin(a, a.id == r.account_id)
        .where(r.comment.is_not(None), *_in_window(r.responded_at, r.account_id, window))
    )  # fmt: skip
    tickets = (
        select(t.account_id, t.created_at, t.subject, t.tags, t.csat,
               a.arr, a.is_deleted, a.segment)
        .outerjoin(a, a.id == t.account_id)
        .where(*_in_window(t.created_at, t.account_id, window))
    )  # fmt: skip
    if stored is not None:
        surveys = surveys.where(stored.fresh(r.synced_at, r.responded_at, window.prev_start))
        tickets = tickets.where(stored.fresh(t.synced_at, t.created_at, window.prev_start))

    def note(
        themes: list[str], aid: int, at: dt.datetime, kind: str, score: Any, csat: Any
    ) -> None:
        for theme in themes:
            key = (theme, at >= window.start, aid)
            out.setdefault(key, AccountMentions()).add(kind, score, csat)

    opts = {"yield_per": PAGE}
    for aid, at, kind, score, comment, arr, deleted, segment in session.execute(
        surveys, execution_options=opts
    ):
        if aid is None:  # excluded by the query; for the type checker
            continue
        values[aid] = AccountValue.of(arr, deleted, segment)
        note(matcher.themes(comment), aid, at, kind, score, None)
    for aid, at, subject, tags, csat, arr, deleted, segment in session.execute(
        tickets, execution_options=opts
    ):
        if aid is None:
            continue
        values[aid] = AccountValue.of(arr, deleted, segment)
        note(matcher.themes(subject, customer_tags(tags or [])), aid, at, "ticket", None, csat)
    return out, values


def _stored(
    session: Session, window: Window, stored: Stored
) -> Iterator[tuple[Key, AccountMentions, AccountValue]]:
    """The stored matches of the rows they answer for, one row per theme, period and account
    (the database aggregates them; no order needed: the sums are exact), with what the
    account weighs. Streamed: memory does not grow with the book."""
    r, t, rm, tm, a = SurveyResponse, Ticket, SurveyResponseTheme, TicketTheme, Account
    nps = case((r.kind == "nps", 1), else_=0)
    detractor = case(((r.kind == "nps") & (r.score < 7), 1), else_=0)
    surveys = (
        select(rm.theme.label("theme"),
               case((r.responded_at >= window.start, 1), else_=0).label("current"),
               r.account_id.label("account_id"),
               negativity_sql(r.kind, r.score).label("negativity"),
               nps.label("nps"), detractor.label("detractor"))
        .join(r, r.id == rm.response_id)
        .where(r.comment.is_not(None), *_in_window(r.responded_at, r.account_id, window))
        .where(stored.kept(r.synced_at, r.responded_at, window.prev_start))
    )  # fmt: skip
    tickets = (
        select(tm.theme, case((t.created_at >= window.start, 1), else_=0), t.account_id,
               ticket_negativity_sql(t.csat), literal(0), literal(0))
        .join(t, t.id == tm.ticket_id)
        .where(*_in_window(t.created_at, t.account_id, window))
        .where(stored.kept(t.synced_at, t.created_at, window.prev_start))
    )  # fmt: skip
    u = union_all(surveys, tickets).subquery()
    g = (
        select(u.c.theme, u.c.current, u.c.account_id, func.count().label("volume"),
               func.max(u.c.negativity).label("worst"), func.sum(u.c.nps).label("nps"),
               func.sum(u.c.detractor).label("detractors"))
        .group_by(u.c.theme, u.c.current, u.c.account_id)
        .subquery()
    )  # fmt: skip
    rows = session.execute(
        select(g, a.arr, a.is_deleted, a.segment).outerjoin(a, a.id == g.c.account_id),
        execution_options={"yield_per": PAGE},
    )
    for theme, current, aid, volume, worst, nps_n, detractors, arr, deleted, segment in rows:
        m = AccountMentions(int(volume), float(worst), int(nps_n or 0), int(detractors or 0))
        yield (theme, bool(current), aid), m, AccountValue.of(arr, deleted, segment)


def unmatched_texts(
    session: Session,
    config: VoiceConfig,
    as_of: dt.date,
    limit: int,
    *,
    stored: Stored | None,
) -> list[str]:
    """Up to `limit` non-blank texts of the current period no theme mentions (survey comments,
    then ticket subjects, each by id), for the suggested themes. Read page by page and only
    until `limit` are found."""
    window = Window.ending(as_of, config.period_days)
    matcher = Matcher(config)
    out: list[str] = []
    r, t = SurveyResponse, Ticket
    sources: list[tuple[Any, ...]] = [
        (r, r.comment, None, r.responded_at,
         exists().where(SurveyResponseTheme.response_id == r.id)),
        (t, t.subject, t.tags, t.created_at, exists().where(TicketTheme.ticket_id == t.id)),
    ]  # fmt: skip
    for model, text, tags, at, matched in sources:
        last = 0
        while len(out) < limit:
            stmt = (
                select(model.id, text, tags if tags is not None else null(), model.synced_at, at)
                .where(model.id > last, text.is_not(None), model.account_id.is_not(None))
                .where(at >= window.start, at < window.end)
                .order_by(model.id)
                .limit(PAGE)
            )
            if stored is not None:  # those the stored matches answer for: with no match
                stmt = stmt.where(stored.fresh(model.synced_at, at, window.start) | ~matched)
            rows = session.execute(stmt).all()
            if not rows:
                break
            last = rows[-1][0]
            for _, value, row_tags, stamp, when in rows:
                fresh = stored is None or stored.is_fresh(stamp, when)
                if fresh and matcher.themes(value, customer_tags(row_tags or [])):
                    continue
                if value.strip():
                    out.append(value)
                    if len(out) == limit:
                        break
    return out


@dataclass(frozen=True)
class ThemeFigures:
    """What the page, the report, the API and the routing read about one theme."""

    theme: str
    label: str
    volume: int
    volume_before: int
    accounts: int
    affected_arr: float
    impact: float
    impact_before: float
    detractor_share: float | None
    detractor_share_before: float | None
    nps_mentions: int
    nps_mentions_before: int
    top_account_id: int | None  # the largest affected account (by ARR) this period
    top_segment: str | None  # the segment holding most of the affected ARR

    @property
    def trend(self) -> int:
        """Mentions this period minus the previous period's."""
        return self.volume - self.volume_before


def figures(stats: Iterable[ThemeStats]) -> list[ThemeFigures]:
    """Each theme's figures, by impact (largest first)."""
    out = [
        ThemeFigures(
            theme=s.theme,
            label=s.label,
            volume=s.now.volume,
            volume_before=s.before.volume,
            accounts=s.now.accounts,
            affected_arr=s.now.affected_arr,
            impact=s.now.impact,
            impact_before=s.before.impact,
            detractor_share=s.now.detractor_share(),
            detractor_share_before=s.before.detractor_share(),
            nps_mentions=s.now.nps_mentions,
            nps_mentions_before=s.before.nps_mentions,
            top_account_id=s.top_account_id,
            top_segment=s.top_segment,
        )
        for s in stats
    ]
    return sorted(out, key=lambda f: (-f.impact, f.theme))
