"""The voice stage proportional to change decides exactly what a from-scratch evaluation decides.

One hand-built book (SQLite, then PostgreSQL) goes through runs of the voice stage: the first,
an unchanged one (skipped), new verbatims, an edited ticket subject and tags, a deleted ticket
and response, a change of the themes' keywords, a new day that moves texts across the period
boundary, an ARR change, and a row stamped before the last mark but committed after it. After
each run the stored matches must be what matching every row from scratch gives, and the
figures, the unmatched texts and the alerts read through them must equal an independent
computation over every row (the stage's algorithm before issue 19, kept here as the oracle).
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from typing import Any

import pytest
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from escalation.voice_config import VoiceConfig
from escalation.voice_routing import decide
from model import marks
from model.db import make_engine, make_session_factory, transaction, upgrade
from model.own_tags import customer_tags
from model.tables import (
    Account,
    SurveyResponse,
    SurveyResponseTheme,
    Ticket,
    TicketTheme,
    VoiceAlert,
)
from reporting import voice_matches
from reporting.voice_matches import stored_matches
from reporting.voice_scales import negativity, nps_category, ticket_negativity
from reporting.voice_themes import (
    Matcher,
    ThemeFigures,
    Window,
    figures,
    theme_stats,
    unmatched_texts,
)
from sync.escalate import EscalationSystems
from sync.voice import run_voice

DAY = dt.date(2026, 6, 30)
SYSTEMS = EscalationSystems({"crm": "salesforce"})
THEMES: dict[str, Any] = {
    "speed": {"label": "Speed", "keywords": ["slow", "timeout"], "tags": ["performance"]},
    "billing": {"label": "Billing", "keywords": ["invoice", "charged"], "tags": ["billing"]},
}


def voice_config(themes: dict[str, Any] | None = None) -> VoiceConfig:
    return VoiceConfig.model_validate({
        "period_days": 10,
        "themes": themes or THEMES,
        "thresholds": {"min_accounts": 2, "impact_rise": 0.05, "impact_growth": 1.2},
        "routing": [{"theme": "*", "owner": {"name": "Head of CS", "crm_user_id": "005U1"}}],
    })  # fmt: skip


def at(day: dt.date, days_ago: int, hour: int = 12) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), dt.UTC) - dt.timedelta(days=days_ago)


# -- the oracle: every row read and matched, as the stage did before its matches were stored --


def oracle(s: Session, config: VoiceConfig, as_of: dt.date) -> tuple[list[ThemeFigures], list[str]]:
    w = Window.ending(as_of, config.period_days)
    matcher = Matcher(config)
    accounts = {a.id: a for a in s.scalars(select(Account))}
    mentions: dict[tuple[str, bool], dict[int, list[tuple[float, str, float | None]]]] = (
        defaultdict(lambda: defaultdict(list))
    )
    unmatched: list[str] = []
    rows: list[tuple[int, dt.datetime, str | None, list[str], str, float | None, Any]] = []
    for r in s.scalars(select(SurveyResponse).order_by(SurveyResponse.id)):
        if r.account_id is not None and r.comment is not None:
            rows.append((r.account_id, r.responded_at, r.comment, [], r.kind, r.score, None))
    for t in s.scalars(select(Ticket).order_by(Ticket.id)):
        if t.account_id is not None:
            tags = customer_tags(t.tags or [])
            rows.append((t.account_id, t.created_at, t.subject, tags, "ticket", None, t.csat))
    for aid, when, text, tags, kind, score, csat in rows:
        if not (w.prev_start <= when < w.end):
            continue
        current = when >= w.start
        found = matcher.themes(text, tags)
        if not found and current and text and text.strip():
            unmatched.append(text)
        neg = ticket_negativity(csat) if kind == "ticket" else negativity(kind, score or 0)
        for theme in found:
            mentions[theme, current][aid].append((neg, kind, score))

    def live(a: int) -> float:
        return float(accounts[a].arr or 0) if not accounts[a].is_deleted else 0.0

    out = []
    for name, spec in config.themes.items():
        per: dict[bool, dict[str, Any]] = {}
        for current in (True, False):
            accs = mentions[name, current]
            nps_ = [sc for ms in accs.values() for _, k, sc in ms if k == "nps" and sc is not None]
            det = sum(nps_category(sc) == "detractor" for sc in nps_)
            per[current] = {
                "volume": sum(len(ms) for ms in accs.values()),
                "accounts": len(accs),
                "affected": math.fsum(live(a) for a in accs),
                "impact": math.fsum(live(a) * max(n for n, _, _ in ms) for a, ms in accs.items()),
                "nps": len(nps_),
                "share": 100.0 * det / len(nps_) if nps_ else None,
            }
        now_accounts = mentions[name, True]
        top = max(now_accounts, key=lambda a: (live(a), -a), default=None)
        segs: dict[str | None, list[float]] = defaultdict(list)
        for a in now_accounts:
            segs[accounts[a].segment].append(float(accounts[a].arr or 0))
        seg = min(segs, key=lambda k: (-math.fsum(segs[k]), k is None, k or ""), default=None)
        now, before = per[True], per[False]
        out.append(ThemeFigures(
            name, spec.label, now["volume"], before["volume"], now["accounts"], now["affected"],
            now["impact"], before["impact"], now["share"], before["share"], now["nps"],
            before["nps"], top, seg,
        ))  # fmt: skip
    return sorted(out, key=lambda f: (-f.impact, f.theme)), unmatched


def stored_matches_from(s: Session, horizon: dt.datetime) -> set[tuple[str, int, str]]:
    """The stored matches of rows at or after `horizon` (those the matches answer for)."""
    r, t, rm, tm = SurveyResponse, Ticket, SurveyResponseTheme, TicketTheme
    surveys = s.execute(
        select(rm.response_id, rm.theme).join(r, r.id == rm.response_id)
        .where(r.responded_at >= horizon)
    )  # fmt: skip
    tickets = s.execute(
        select(tm.ticket_id, tm.theme).join(t, t.id == tm.ticket_id).where(t.created_at >= horizon)
    )
    return {("s", i, th) for i, th in surveys} | {("t", i, th) for i, th in tickets}


def matched_from_scratch(
    s: Session, config: VoiceConfig, horizon: dt.datetime
) -> set[tuple[str, int, str]]:
    m = Matcher(config)
    out = {
        ("s", r.id, th)
        for r in s.scalars(select(SurveyResponse).where(SurveyResponse.responded_at >= horizon))
        for th in m.themes(r.comment)
    }
    for t in s.scalars(select(Ticket).where(Ticket.created_at >= horizon)):
        out |= {("t", t.id, th) for th in m.themes(t.subject, customer_tags(t.tags or []))}
    return out


class Book:
    def __init__(self, url: str) -> None:
        upgrade(url)
        self.engine = make_engine(url)
        self.factory: sessionmaker[Session] = make_session_factory(self.engine)
        self.config = voice_config()
        self.day = DAY
        self.n = 0

    def run(self) -> dict[str, int]:
        with transaction(self.factory) as s:
            summary, _ = run_voice(s, self.day, self.config, SYSTEMS)
        self.check(summary)
        return summary

    def check(self, summary: dict[str, int]) -> None:
        with self.factory() as s:
            stored = stored_matches(s, self.config)
            assert stored is not None
            assert stored_matches_from(s, stored.horizon) == matched_from_scratch(
                s, self.config, stored.horizon
            )
            # the run's day, and an earlier one the page may show (reaching before the horizon)
            for day in (self.day, self.day - dt.timedelta(days=25)):
                expected, unmatched = oracle(s, self.config, day)
                for through in (stored, None):  # the stored matches, and no stored match at all
                    stats, _ = theme_stats(s, self.config, day, stored=through)
                    assert figures(stats) == expected
                    texts = unmatched_texts(s, self.config, day, 1000, stored=through)
                    assert texts == unmatched
                    assert unmatched_texts(s, self.config, day, 2, stored=through) == unmatched[:2]
            expected, _ = oracle(s, self.config, self.day)
            book = math.fsum(
                float(a or 0) for a in s.scalars(select(Account.arr).where(~Account.is_deleted))
            )
            alerts = decide(list(expected), book, self.config, self.day)
            assert summary["themes_deteriorated"] == len(alerts)
            recorded = set(s.scalars(select(VoiceAlert.theme)))
            assert {a.theme for a in alerts} <= recorded

    def survey(self, account: int, score: float, comment: str | None, days_ago: int) -> None:
        self.n += 1
        with transaction(self.factory) as s:
            s.add(SurveyResponse(
                source="usage", external_id=f"sv{self.n}", kind="nps", score=score,
                comment=comment, responded_at=at(self.day, days_ago), account_id=account,
            ))  # fmt: skip

    def ticket(
        self, account: int, subject: str | None, days_ago: int, tags: list[str] | None = None,
        csat: str | None = None,
    ) -> None:  # fmt: skip
        self.n += 1
        with transaction(self.factory) as s:
            s.add(Ticket(
                source="zendesk", helpdesk_id=self.n, account_id=account, subject=subject,
                status="open", tags=tags or [], csat=csat, created_at=at(self.day, days_ago),
                updated_at=at(self.day, days_ago),
            ))  # fmt: skip


@pytest.fixture
def book(any_db_url: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    # runs here are milliseconds apart: without the overlap kept for other writers' open
    # transactions, a run re-reads exactly the rows changed since the last (counted below)
    monkeypatch.setattr(marks, "MARGIN", dt.timedelta(0))
    b = Book(any_db_url)
    with transaction(b.factory) as s:
        s.add_all(
            Account(id=i, name=f"A{i}", crm_id=f"001A{i}", owner_crm_id="005U9", arr=arr,
                    segment=seg)
            for i, arr, seg in [(1, 500_000.0, "Enterprise"), (2, 80_000.5, "Mid"),
                                (3, 40_000.25, "Mid"), (4, 10_000.0, "SMB"), (5, None, None)]
        )  # fmt: skip
    # the previous period: a little slowness; the current one: more, and billing trouble
    b.survey(1, 8, "The app is slow", 15)
    b.survey(3, 9, "Great, but an invoice was late", 14)
    b.ticket(2, "Timeout on export", 12, ["performance", "health_red"])
    b.survey(1, 3, "So slow since the update", 2)
    b.survey(2, 2, "Slow and we were charged twice", 3)
    b.survey(3, 6, "Loving the new reports", 1)
    b.survey(4, 10, "   ", 1)
    b.ticket(3, "Cannot log in", 4, ["login"], csat="bad")
    b.ticket(4, "Invoice question", 5, ["billing"], csat="good")
    b.ticket(5, "Page slow", 6)
    b.survey(4, 1, "Mobile app crashes", 30)  # outside both periods
    yield b
    b.engine.dispose()


def test_the_stage_follows_change_and_decides_what_a_full_evaluation_decides(
    book: Book, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = book.run()
    assert first["rematched"] == 10 and "skipped" not in first  # all but the one out of reach
    with book.factory() as s:
        assert (s.scalar(select(func.count()).select_from(VoiceAlert)) or 0) >= 1  # opened

    assert book.run()["skipped"] == 1  # nothing changed: nothing read, nothing decided

    book.survey(4, 0, "Timeout after timeout", 0)  # new verbatims
    book.ticket(5, "Charged for seats we removed", 1, ["billing"])
    second = book.run()
    assert "skipped" not in second and second["rematched"] == 2
    assert book.run()["skipped"] == 1

    with transaction(book.factory) as s:  # an edited ticket subject, and tags
        t = s.scalars(select(Ticket).where(Ticket.subject == "Cannot log in")).one()
        t.subject = "Login is slow"
        u = s.scalars(select(Ticket).where(Ticket.subject == "Invoice question")).one()
        u.tags = ["question"]
    assert book.run()["rematched"] == 2

    with transaction(book.factory) as s:  # a deleted ticket and a deleted response
        s.execute(delete(Ticket).where(Ticket.subject == "Page slow"))
        s.execute(
            delete(SurveyResponse).where(SurveyResponse.comment == "So slow since the update")
        )
    assert "skipped" not in book.run()

    book.config = voice_config({**THEMES, "reports": {"label": "Reports", "keywords": ["reports"]}})
    changed = book.run()  # a theme added: every row is matched again
    assert changed["rematched"] == 10  # every row in reach

    book.day += dt.timedelta(days=3)  # a new day: texts move into the previous period
    assert "skipped" not in book.run()
    assert book.run()["skipped"] == 1

    book.day -= dt.timedelta(days=20)  # an earlier day (a replay): the matches reach back
    assert book.run()["rematched"] == 1  # the one row only that day's periods reach
    book.day += dt.timedelta(days=20)
    assert book.run()["rematched"] == 0  # back to today: every row was matched already

    with transaction(book.factory) as s:  # the ARR of an account changes
        s.execute(update(Account).where(Account.id == 4).values(arr=900_000.0))
    assert "skipped" not in book.run()

    # with the overlap back: a row stamped before the last run read but committed after it
    # (a writer's open transaction) is not missed, and an unchanged run still skips
    monkeypatch.setattr(marks, "MARGIN", dt.timedelta(seconds=10))
    book.survey(5, 7, "ok", 0)
    book.run()
    assert book.run()["skipped"] == 1
    with book.factory() as s:
        mark = voice_matches.read_mark(s)
        assert mark is not None
    late = dt.datetime.fromisoformat(mark.until) + dt.timedelta(seconds=8)
    book.ticket(2, "Slow dashboards", 0)
    with transaction(book.factory) as s:
        s.execute(update(Ticket).where(Ticket.subject == "Slow dashboards").values(synced_at=late))
    assert "skipped" not in book.run()
    assert book.run()["skipped"] == 1


def test_a_rolled_back_run_leaves_no_mark_and_a_crash_loses_nothing(book: Book) -> None:
    book.run()
    book.survey(2, 0, "Invoice charged twice again", 0)
    with book.factory() as s:  # a dry run: its caller rolls it back
        summary, _ = run_voice(s, book.day, book.config, SYSTEMS)
        assert "skipped" not in summary
        s.rollback()
    with book.factory() as s:
        assert s.scalar(select(func.count()).select_from(SurveyResponseTheme)) == 5
    summary = book.run()  # the real run still sees the change
    assert "skipped" not in summary and summary["rematched"] == 1


def test_linking_a_response_stamps_it_and_counts_it(book: Book) -> None:
    book.survey(1, 9, "fine", 1)  # keeps the stage from skipping below on a count alone
    with transaction(book.factory) as s:
        s.add(SurveyResponse(
            source="usage", external_id="late", kind="nps", score=0, comment="slow slow slow",
            responded_at=at(book.day, 1), crm_account_id="001A6",
        ))  # fmt: skip
    assert book.run()["linked_responses"] == 0  # no account 6 yet
    with book.factory() as s:
        before = s.scalar(
            select(SurveyResponse.synced_at).where(SurveyResponse.external_id == "late")
        )
    with transaction(book.factory) as s:
        s.add(Account(id=6, name="A6", crm_id="001A6", arr=70_000.0, segment="Mid"))
    summary = book.run()
    assert summary["linked_responses"] == 1 and "skipped" not in summary
    with book.factory() as s:
        after = s.scalar(
            select(SurveyResponse.synced_at).where(SurveyResponse.external_id == "late")
        )
    assert before is not None and after is not None and after > before
    assert book.run()["skipped"] == 1


def test_a_match_of_a_row_deleted_meanwhile_is_dropped_not_a_failure(book: Book) -> None:
    """An erasure committing between the read of a page and the insert of its matches: the
    foreign key refuses the page, which is inserted again row by row where the row exists."""
    with transaction(book.factory) as s:
        ids = list(s.scalars(select(Ticket.id).order_by(Ticket.id).limit(2)))
        source = voice_matches._Source(Ticket, Matcher(book.config))
        gone = max(ids) + 1000
        source._insert(s, [{"ticket_id": i, "theme": "speed"} for i in [*ids, gone]])
    with book.factory() as s:
        assert set(s.scalars(select(TicketTheme.ticket_id))) == set(ids)
