"""The book's topic mix from kept days equals a full count, and only changed days are re-read."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

import pytest
from sqlalchemy import delete, select, text
from sqlalchemy.orm import Session

from escalation import book_counts, ticket_facts
from escalation.clusters import signature_keys
from escalation.config import EscalationConfig, load_rules
from escalation.fact_models import end_of_day
from escalation.facts import gather_facts
from model.own_tags import customer_tags
from model.tables import BookMixDay, Ticket
from tests.sync.factories import NOW, account, ticket

AS_OF = NOW.date()
SUBJECTS = ["Export fails again", "SSO login loop", "Billing question", "Export fails for CSV"]
TAGS = [["export"], ["sso", "health_red"], ["billing"], ["export", "urgent"], []]
# what clusters would carry: tags, one word, a word pair (one no ticket carries)
KEYS = frozenset({"tag-export", "tag-sso", "tag-webhooks", "subj-export", "subj-fails-export"})
KEYS |= {"subj-login-sso", "subj-nowhere"}


def _oracle(session: Session, cfg: EscalationConfig) -> tuple[Counter[str], int]:
    """The mix counted the plain way, ticket by ticket, from the ORM."""
    repeat = cfg.rule("repeated_issue")
    end = end_of_day(AS_OF)
    start = end - timedelta(days=repeat.window_days + repeat.baseline_days)
    excluded = {t.lower() for t in [*repeat.exclude_tags, *cfg.engineering_ticket.tags]}
    counts: Counter[str] = Counter()
    total = 0
    for t in session.scalars(select(Ticket)):
        if t.account_id is None or not (start <= t.created_at < end):
            continue
        if excluded.intersection(g.lower() for g in t.tags):
            continue
        total += 1
        tags = customer_tags(t.tags, cfg.written_tags)
        counts.update(signature_keys(t.subject or "", tags, cfg.ignore_tags))
    return counts, total


@pytest.fixture
def book(any_session: Session) -> Session:
    session = any_session
    if session.get_bind().dialect.name == "postgresql":  # days are UTC days, not the session's
        session.execute(text("SET TIME ZONE 'America/New_York'"))
    session.add_all([account(1), account(2)])
    n = 0
    for days_ago in (0, 1, 2, 10, 40, 400):  # 400: outside the window
        for hour in (2, 23):  # 02:00 UTC is the day before in New York
            for k in range(3):
                n += 1
                t = ticket(n, 1 + n % 2 if n % 7 else None)  # some belong to no account
                t.subject = SUBJECTS[n % len(SUBJECTS)]
                t.tags = list(TAGS[n % len(TAGS)])
                at = datetime.combine(AS_OF - timedelta(days=days_ago), datetime.min.time())
                t.created_at = t.updated_at = at.replace(tzinfo=NOW.tzinfo) + timedelta(
                    hours=hour, minutes=k
                )
                session.add(t)
    session.flush()
    return session


def _reads(monkeypatch) -> list[tuple[list[object], frozenset[str] | None, bool]]:
    """Each count of tickets from now on: its day ranges, the signatures asked, narrowed."""
    calls: list[tuple[list[object], frozenset[str] | None, bool]] = []
    count = book_counts.count_days

    def spy(s, rs, excluded, c, wanted=None, narrow=False):  # type: ignore[no-untyped-def]
        calls.append((list(rs), wanted, narrow))
        return count(s, rs, excluded, c, wanted, narrow)

    monkeypatch.setattr(ticket_facts, "count_days", spy)
    return calls


def _read(
    session: Session, cfg: EscalationConfig, monkeypatch, keys: frozenset[str] = KEYS
) -> tuple[object, list[object]]:
    """The mix of `keys` as a new process reads it, and the day ranges it had to count."""
    calls = _reads(monkeypatch)
    ticket_facts.clear_book_cache()
    mix = ticket_facts.book_mix(session, AS_OF, cfg, keys)
    return mix, [r for ranges, _, _ in calls for r in ranges]


def _only(mix: tuple[Counter[str], int], keys: frozenset[str]) -> tuple[Counter[str], int]:
    """A whole count's part the rule asks for."""
    return Counter({k: mix[0][k] for k in keys}), mix[1]


def test_kept_days_sum_to_a_full_count_and_only_changed_days_are_recounted(
    book: Session, monkeypatch
) -> None:
    cfg = load_rules()
    expected = _oracle(book, cfg)
    assert expected[1] > 20 and expected[0]["tag-export"] > 0
    end = end_of_day(AS_OF)
    window = cfg.rule("repeated_issue").window_days + cfg.rule("repeated_issue").baseline_days
    assert book_counts.count_window(book, end - timedelta(days=window), end, cfg) == expected
    expected = _only(expected, KEYS)
    mix, ranges = _read(book, cfg, monkeypatch)
    assert mix == expected and mix[0]["subj-nowhere"] == 0
    assert len(ranges) == 3  # days 0-2, 10 and 40: one read of three runs of days
    assert book.scalar(select(BookMixDay.day).order_by(BookMixDay.day).limit(1)) == (
        AS_OF - timedelta(days=40)
    )

    assert _read(book, cfg, monkeypatch) == (expected, [])  # nothing changed: nothing read

    today = datetime.combine(AS_OF, datetime.min.time()).replace(tzinfo=NOW.tzinfo)
    new = ticket(999, 2)
    new.subject, new.tags = "SSO login loop", ["sso"]
    new.created_at = new.updated_at = today + timedelta(hours=5)
    book.add(new)
    old = book.scalars(select(Ticket).where(Ticket.helpdesk_id == 20)).one()
    old.tags = [*old.tags, "webhooks"]  # an agent tags a ticket of 10 days ago
    banded = book.scalars(select(Ticket).where(Ticket.helpdesk_id == 8)).one()
    banded.tags = [*banded.tags, "health_yellow"]  # a band tag pulsehub wrote: not a change
    book.flush()
    expected = _only(_oracle(book, cfg), KEYS)
    mix, ranges = _read(book, cfg, monkeypatch)
    assert mix == expected and mix[0]["tag-webhooks"] == 1
    old_day = datetime.combine(old.created_at.astimezone(NOW.tzinfo).date(), datetime.min.time())
    old_start = old_day.replace(tzinfo=NOW.tzinfo)
    one = timedelta(days=1)  # day 1, between the two, kept: its only change was a band tag
    assert sorted(ranges) == [(old_start, old_start + one), (today, today + one)]  # type: ignore[type-var]

    unlinked = book.scalars(select(Ticket).where(Ticket.helpdesk_id == 1)).one()
    unlinked.account_id = None  # unlinked from its account: the book no longer counts it
    book.flush()
    mix, ranges = _read(book, cfg, monkeypatch)
    assert mix == _only(_oracle(book, cfg), KEYS) and len(ranges) == 1


def test_other_settings_keep_their_own_days(book: Session, monkeypatch) -> None:
    cfg = load_rules()
    _read(book, cfg, monkeypatch)
    other = cfg.model_copy(update={"ignore_tags": [*cfg.ignore_tags, "export"]})
    mix, ranges = _read(book, other, monkeypatch)
    assert mix == _only(_oracle(book, other), KEYS) and mix[0]["tag-export"] == 0 and ranges
    assert _read(book, cfg, monkeypatch)[1] == []  # the first settings' days are still kept


def test_a_signature_no_day_tracks_is_counted_on_the_kept_days_in_one_narrowed_read(
    book: Session, monkeypatch
) -> None:
    cfg = load_rules()
    first = frozenset({"tag-export"})
    _read(book, cfg, monkeypatch, first)
    tracked = {tuple(sorted(r.counts)) for r in book.scalars(select(BookMixDay))}
    assert tracked == {("tag-export",)}  # every day counts the one signature, zeros included

    calls = _reads(monkeypatch)
    ticket_facts.clear_book_cache()
    mix = ticket_facts.book_mix(book, AS_OF, cfg, KEYS)
    assert mix == _only(_oracle(book, cfg), KEYS)
    assert [narrow for _, _, narrow in calls] == [True]  # one read, of tickets that could match
    assert {tuple(sorted(r.counts)) for r in book.scalars(select(BookMixDay))} == {
        tuple(sorted(KEYS | first))
    }
    assert _read(book, cfg, monkeypatch, KEYS) == (mix, [])  # now tracked: nothing read


ODD = [
    ("EXPORT Fails", ["Export"]),  # upper case in subject and tag
    ("\u0130mport broken", []),  # U+0130 lower-cases to "i" + a combining dot
    ("\u212aey rotation", ["\u212aeys"]),  # KELVIN SIGN lower-cases to "k"
    ("webhook retries", ["caf\u00e9-latte"]),  # a non-ASCII tag is escaped in the JSON text
    ("weird tag", ["!!!"]),  # a tag of no letters slugs to "x"
    ("Multi  word tag", ["Data  Export--v2"]),
    ("a" * 60 + " overflow", ["long"]),  # a word past the slug's 40 characters
]


def test_a_narrowed_read_counts_what_a_whole_read_counts(any_session: Session) -> None:
    session = any_session
    session.add(account(1))
    for n, (subject, tags) in enumerate(ODD, start=1):
        t = ticket(n, 1)
        t.subject, t.tags = subject, tags
        session.add(t)
    session.flush()
    cfg = load_rules()
    whole = book_counts.count_window(
        session, NOW - timedelta(days=30), NOW + timedelta(days=1), cfg
    )
    keys = frozenset(whole[0])
    assert {
        "subj-mport",
        "subj-key",
        "tag-keys",
        "tag-caf_latte",
        "tag-x",
        "subj-" + "a" * 40,
    } <= keys
    excluded = book_counts.excluded_tags(cfg)
    ranges = [(NOW - timedelta(days=30), NOW + timedelta(days=1))]
    for key in sorted(keys):  # one signature at a time: the filter narrows to it alone
        days = book_counts.count_days(session, ranges, excluded, cfg, frozenset({key}), True)
        assert sum(c[key] for c, _ in days.values()) == whole[0][key], key


def test_a_run_of_many_batches_reads_every_batchs_signatures_at_once(
    book: Session, monkeypatch
) -> None:
    cfg = load_rules()
    clustered = {
        c.signature for f in gather_facts(book, AS_OF, None, cfg).values() for c in f.clusters
    }
    assert len(clustered) >= 2
    assert book_counts.book_signatures(book, end_of_day(AS_OF), cfg) == clustered
    for account_id in (1, 2):  # or the given accounts' alone
        own = {
            c.signature for c in gather_facts(book, AS_OF, [account_id], cfg)[account_id].clusters
        }
        assert book_counts.book_signatures(book, end_of_day(AS_OF), cfg, [account_id]) == own

    calls = _reads(monkeypatch)
    book.execute(delete(BookMixDay))
    ticket_facts.clear_book_cache()
    for account_id in (1, 2):  # one batch an account, unprepared: each reads its own
        gather_facts(book, AS_OF, [account_id], cfg)
    reads = [wanted for _, wanted, _ in calls]
    assert len(reads) == 2 and reads[1] < clustered  # the second: its own new signature

    book.execute(delete(BookMixDay))
    calls.clear()
    ticket_facts.clear_book_cache()
    ticket_facts.prepare_book_mix(book, AS_OF, cfg)
    for account_id in (1, 2):  # prepared: the batches find every signature in the cache
        gather_facts(book, AS_OF, [account_id], cfg)
    assert [wanted for _, wanted, _ in calls] == [clustered]
