"""The voice-of-the-customer read model: NPS / CSAT / CES by month and segment, the feedback
themes with their ARR-weighted impact and owners, suggested themes, and recent verbatims.

Months are calendar months (UTC) of the response. CSAT joins survey answers (1-5) and the
helpdesk's ratings on tickets (good/bad), dated when rated. Response coverage is the share
of live accounts with at least one response that month (the sources report answers, not
invitations, so a true response rate is not knowable here).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from escalation.voice_config import VoiceConfig
from escalation.voice_routing import deteriorated, period_of
from model.tables import Account, SurveyResponse, Ticket, VoiceAlert
from reporting.voice_matches import stored_matches
from reporting.voice_scales import EASY_CES, SATISFIED_CSAT, nps, nps_category
from reporting.voice_suggest import Suggestion, suggest_themes
from reporting.voice_themes import (
    Matcher,
    ThemeFigures,
    account_arr,
    book_arr,
    figures,
    theme_stats,
    unmatched_texts,
)

MONTHS = 12
VERBATIMS = 25


@dataclass
class Tally:
    """One month's (or segment's) answers."""

    promoters: int = 0
    passives: int = 0
    detractors: int = 0
    ces_sum: float = 0.0
    ces_n: int = 0
    ces_easy: int = 0
    csat_n: int = 0
    csat_ok: int = 0
    accounts: set[int] = field(default_factory=set)

    def add(self, kind: str, score: float, account: int | None) -> None:
        if account is not None:
            self.accounts.add(account)
        if kind == "nps":
            cat = nps_category(score)
            self.promoters += cat == "promoter"
            self.passives += cat == "passive"
            self.detractors += cat == "detractor"
        elif kind == "ces":
            self.ces_sum, self.ces_n = self.ces_sum + score, self.ces_n + 1
            self.ces_easy += score >= EASY_CES
        else:
            self.csat_n += 1
            self.csat_ok += score >= SATISFIED_CSAT

    def as_dict(self, live: int | None = None) -> dict[str, Any]:
        n = self.promoters + self.passives + self.detractors
        return {
            "nps": nps(self.promoters, self.passives, self.detractors),
            "promoters": self.promoters,
            "passives": self.passives,
            "detractors": self.detractors,
            "nps_responses": n,
            "ces": round(self.ces_sum / self.ces_n, 2) if self.ces_n else None,
            "ces_easy": round(self.ces_easy / self.ces_n, 3) if self.ces_n else None,
            "ces_responses": self.ces_n,
            "csat": round(self.csat_ok / self.csat_n, 3) if self.csat_n else None,
            "csat_responses": self.csat_n,
            "accounts_responding": len(self.accounts),
            "coverage": round(len(self.accounts) / live, 3) if live else None,
        }


@dataclass
class VoiceView:
    as_of: dt.date
    months: list[str]
    monthly: list[dict[str, Any]]
    by_segment: dict[str, dict[str, Any]]
    segment_months: dict[str, list[dict[str, Any]]]  # segment -> the months, as `monthly`
    themes: list[dict[str, Any]]
    suggested: list[Suggestion]
    verbatims: list[dict[str, Any]]
    period_days: int


def _month(at: dt.datetime) -> str:
    return f"{at.year:04d}-{at.month:02d}"


def month_labels(as_of: dt.date, n: int = MONTHS) -> list[str]:
    y, m, out = as_of.year, as_of.month, []
    for _ in range(n):
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y, m - 1) if m > 1 else (y - 1, 12)
    return out[::-1]


def answers(
    session: Session, since: dt.datetime
) -> list[tuple[int | None, str, float, dt.datetime]]:
    """(account, kind, score, when) of every survey answer and helpdesk rating since `since`."""
    rows: list[tuple[int | None, str, float, dt.datetime]] = [
        (a, k, s, t)
        for a, k, s, t in session.execute(
            select(SurveyResponse.account_id, SurveyResponse.kind, SurveyResponse.score,
                   SurveyResponse.responded_at).where(SurveyResponse.responded_at >= since)
        )
    ]  # fmt: skip
    ratings = session.execute(
        select(Ticket.account_id, Ticket.csat, Ticket.csat_at).where(
            Ticket.csat.in_(("good", "bad")), Ticket.csat_at >= since
        )
    )
    rows += [(a, "csat", 5.0 if c == "good" else 1.0, t) for a, c, t in ratings if t is not None]
    return rows


def load_voice(
    session: Session, config: VoiceConfig, as_of: dt.date, *, suggest: bool = True
) -> VoiceView:
    months = month_labels(as_of)
    first = dt.datetime.fromisoformat(months[0] + "-01").replace(tzinfo=dt.UTC)
    segments = dict(session.execute(select(Account.id, Account.segment)).all())
    live = session.scalar(select(Account.id).where(Account.is_deleted.is_(False)).limit(1))
    live_n = len(account_arr(session)) if live is not None else 0
    monthly: dict[str, Tally] = defaultdict(Tally)
    by_segment: dict[str, Tally] = defaultdict(Tally)
    seg_month: dict[tuple[str, str], Tally] = defaultdict(Tally)
    period_start = dt.datetime.combine(
        as_of - dt.timedelta(days=config.period_days - 1), dt.time(), dt.UTC
    )
    for account, kind, score, at in answers(session, first):
        monthly[_month(at)].add(kind, score, account)
        if account is not None:
            seg_month[segments.get(account) or "no segment", _month(at)].add(kind, score, account)
        if at >= period_start and account is not None:
            by_segment[segments.get(account) or "no segment"].add(kind, score, account)
    stored = stored_matches(session, config)  # the voice stage's, where they apply
    stats, _ = theme_stats(session, config, as_of, stored=stored)
    figs = figures(stats)
    unmatched = (
        unmatched_texts(session, config, as_of, config.suggest.max_texts, stored=stored)
        if suggest
        else []
    )
    return VoiceView(
        as_of=as_of,
        months=months,
        monthly=[{"month": m, **monthly[m].as_dict(live_n)} for m in months],
        by_segment={k: v.as_dict() for k, v in sorted(by_segment.items())},
        segment_months={
            seg: [{"month": m, **seg_month[seg, m].as_dict()} for m in months]
            for seg in sorted({seg for seg, _ in seg_month})
        },
        themes=theme_rows(session, figs, book_arr(session), config, as_of),
        suggested=suggest_themes(unmatched, config.suggest),
        verbatims=recent_verbatims(session, config),
        period_days=config.period_days,
    )


def theme_rows(
    session: Session, figs: list[ThemeFigures], book_arr: float, config: VoiceConfig, as_of: dt.date
) -> list[dict[str, Any]]:
    period = period_of(as_of)
    alerts = {
        a.theme: a
        for a in session.execute(select(VoiceAlert).where(VoiceAlert.period == period)).scalars()
    }
    out = []
    for f in figs:
        route = config.route(f.theme, f.top_segment)
        owner = route.owner.name if route and route.owner else "largest account's owner"
        alert = alerts.get(f.theme)
        out.append({
            "theme": f.theme, "label": f.label, "volume": f.volume, "volume_before": f.volume_before,
            "trend": f.trend, "accounts": f.accounts, "affected_arr": round(f.affected_arr, 2),
            "impact": round(f.impact, 2), "impact_before": round(f.impact_before, 2),
            "impact_share": round(f.impact / book_arr, 4) if book_arr else None,
            "impact_rise_share": round((f.impact - f.impact_before) / book_arr, 4) if book_arr else None,
            "detractor_share": f.detractor_share, "owner": owner,
            "deteriorating": deteriorated(f, book_arr, config),
            "task_opened": alert.created_at.isoformat() if alert else None,
            "crm_task_id": alert.crm_task_id if alert else None,
        })  # fmt: skip
    return out


def recent_verbatims(
    session: Session, config: VoiceConfig, n: int = VERBATIMS
) -> list[dict[str, Any]]:
    """The newest survey comments with their account, score and themes."""
    matcher = Matcher(config)
    rows = session.execute(
        select(SurveyResponse.responded_at, SurveyResponse.kind, SurveyResponse.score,
               SurveyResponse.comment, Account.id, Account.name, Account.arr, Account.segment)
        .join(Account, Account.id == SurveyResponse.account_id)
        .where(SurveyResponse.comment.is_not(None))
        .order_by(SurveyResponse.responded_at.desc())
        .limit(n)
    )  # fmt: skip
    return [
        {
            "at": at.isoformat(),
            "kind": kind,
            "score": score,
            "comment": comment,
            "account_id": aid,
            "account": name,
            "arr": arr,
            "segment": segment,
            "themes": [config.themes[t].label for t in matcher.themes(comment)],
        }
        for at, kind, score, comment, aid, name, arr, segment in rows
    ]
