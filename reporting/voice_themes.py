"""Feedback themes: which survey comments and tickets mention which theme, and what that weighs.

Mentions are read for two periods (the last `period_days` up to the as-of day, and the
`period_days` before): survey comments and ticket subjects matched against each theme's
keywords, and ticket tags against its tags. Helpdesk satisfaction ratings are read from their
tickets, never pulled twice.

Impact weights by customer value so a vocal small account does not outweigh the base: each
account mentioning a theme in a period counts once, with its ARR times its mean negativity
(`reporting.voice_scales`) over its mentions of the theme:

    impact(theme, period) = sum over distinct accounts a of ARR(a) x mean negativity(a)

affected ARR is the same sum without the negativity; volume counts every mention.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from escalation.voice_config import VoiceConfig
from model.own_tags import customer_tags
from model.tables import Account, SurveyResponse, Ticket
from reporting.voice_scales import negativity, nps_category, ticket_negativity


@dataclass(frozen=True)
class Mention:
    """One text (survey comment or ticket) about `theme` from one account."""

    account_id: int
    at: dt.datetime
    negativity: float
    kind: str  # nps | ces | csat | ticket
    score: float | None = None


@dataclass
class PeriodStats:
    """One theme in one period."""

    volume: int = 0
    accounts: dict[int, list[float]] = field(default_factory=dict)  # account -> negativities
    nps_mentions: int = 0
    detractors: int = 0

    def add(self, m: Mention) -> None:
        self.volume += 1
        self.accounts.setdefault(m.account_id, []).append(m.negativity)
        if m.kind == "nps" and m.score is not None:
            self.nps_mentions += 1
            self.detractors += nps_category(m.score) == "detractor"

    def affected_arr(self, arr: Mapping[int, float]) -> float:
        return sum(arr.get(a, 0.0) for a in self.accounts)

    def impact(self, arr: Mapping[int, float]) -> float:
        """Sum over distinct accounts of ARR x their strongest negativity (each account once)."""
        return sum(arr.get(a, 0.0) * max(n) for a, n in self.accounts.items())

    def detractor_share(self) -> float | None:
        return None if not self.nps_mentions else 100.0 * self.detractors / self.nps_mentions


@dataclass
class ThemeStats:
    """A theme's current and previous period, and what the figures are worth."""

    theme: str
    label: str
    now: PeriodStats = field(default_factory=PeriodStats)
    before: PeriodStats = field(default_factory=PeriodStats)


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


def mentions(
    session: Session, matcher: Matcher, since: dt.datetime, until: dt.datetime
) -> Iterator[tuple[str, Mention, str | None]]:
    """(theme, mention, text) of every survey comment and ticket in [since, until) that
    mentions a theme, for accounts that are linked; unmatched texts come with theme ''."""
    surveys = session.execute(
        select(
            SurveyResponse.account_id,
            SurveyResponse.responded_at,
            SurveyResponse.kind,
            SurveyResponse.score,
            SurveyResponse.comment,
        ).where(
            SurveyResponse.account_id.is_not(None),
            SurveyResponse.comment.is_not(None),
            SurveyResponse.responded_at >= since,
            SurveyResponse.responded_at < until,
        )
    )
    for account_id, at, kind, score, comment in surveys:
        if account_id is None:  # excluded by the query; for the type checker
            continue
        m = Mention(account_id, at, negativity(kind, score), kind, score)
        found = matcher.themes(comment)
        for theme in found or [""]:
            yield theme, m, comment
    tickets = session.execute(
        select(
            Ticket.account_id, Ticket.created_at, Ticket.subject, Ticket.tags, Ticket.csat
        ).where(
            Ticket.account_id.is_not(None),
            Ticket.created_at >= since,
            Ticket.created_at < until,
        )
    )
    for account_id, at, subject, tags, csat in tickets:
        if account_id is None:
            continue
        m = Mention(account_id, at, ticket_negativity(csat), "ticket")
        found = matcher.themes(subject, customer_tags(tags or []))
        for theme in found or [""]:
            yield theme, m, subject


def account_arr(session: Session) -> dict[int, float]:
    """Each live account's ARR (0 when unknown)."""
    rows = session.execute(select(Account.id, Account.arr).where(Account.is_deleted.is_(False)))
    return {a: float(arr or 0.0) for a, arr in rows}


def theme_stats(
    session: Session, config: VoiceConfig, as_of: dt.date
) -> tuple[list[ThemeStats], list[str], Window]:
    """Every configured theme's two periods, and the current period's unmatched texts."""
    window = Window.ending(as_of, config.period_days)
    stats = {n: ThemeStats(n, t.label) for n, t in config.themes.items()}
    unmatched: list[str] = []
    matcher = Matcher(config)
    for theme, m, text in mentions(session, matcher, window.prev_start, window.end):
        current = m.at >= window.start
        if not theme:
            if current and text:
                unmatched.append(text)
            continue
        (stats[theme].now if current else stats[theme].before).add(m)
    return list(stats.values()), unmatched, window


def segment_arr(session: Session, accounts: Iterable[int]) -> dict[str | None, float]:
    """ARR of `accounts` per segment."""
    ids = list(accounts)
    out: dict[str | None, float] = defaultdict(float)
    for start in range(0, len(ids), 500):
        rows = session.execute(
            select(Account.segment, Account.arr).where(Account.id.in_(ids[start : start + 500]))
        )
        for segment, arr in rows:
            out[segment] += float(arr or 0.0)
    return dict(out)


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


def figures(
    session: Session, stats: Iterable[ThemeStats], arr: Mapping[int, float]
) -> list[ThemeFigures]:
    """Each theme's figures, by impact (largest first)."""
    out = []
    for s in stats:
        accounts = s.now.accounts
        top = max(accounts, key=lambda a: (arr.get(a, 0.0), -a), default=None)
        by_segment = segment_arr(session, accounts)
        segment = max(by_segment, key=lambda k: by_segment[k], default=None)
        out.append(
            ThemeFigures(
                theme=s.theme,
                label=s.label,
                volume=s.now.volume,
                volume_before=s.before.volume,
                accounts=len(accounts),
                affected_arr=s.now.affected_arr(arr),
                impact=s.now.impact(arr),
                impact_before=s.before.impact(arr),
                detractor_share=s.now.detractor_share(),
                detractor_share_before=s.before.detractor_share(),
                nps_mentions=s.now.nps_mentions,
                nps_mentions_before=s.before.nps_mentions,
                top_account_id=top,
                top_segment=segment,
            )
        )
    return sorted(out, key=lambda f: (-f.impact, f.theme))
