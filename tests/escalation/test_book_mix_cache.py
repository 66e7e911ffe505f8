"""The book's topic mix: streamed, folded when large, cached per database and window."""

from __future__ import annotations

from datetime import timedelta

from escalation import book_counts, ticket_facts
from escalation.config import load_rules
from model.db import transaction
from tests.sync.factories import NOW, account, ticket

KEYS = frozenset({"tag-sso", "subj-export", "tag-webhooks"})


def _tickets(factory, n: int, tag: str, first_id: int) -> None:
    with transaction(factory) as s:
        for i in range(n):
            t = ticket(first_id + i, 1)
            t.tags, t.subject = [tag], f"Export fails #{first_id + i}"
            s.add(t)


def test_folding_keeps_counts_exact_and_cache_serves_a_refresh(factory, monkeypatch) -> None:
    cfg = load_rules()
    start, end = NOW - timedelta(days=30), NOW + timedelta(hours=1)
    with transaction(factory) as s:
        s.add(account(1))
    _tickets(factory, 30, "sso", 1)
    monkeypatch.setattr(book_counts, "FOLD_AT", 7)  # folds several times over 30 subjects
    with transaction(factory) as s:
        folded = ticket_facts._book_mix(s, start, end, cfg, KEYS)
    ticket_facts.clear_book_cache()
    monkeypatch.setattr(book_counts, "FOLD_AT", 1_000_000)
    with transaction(factory) as s:
        whole = ticket_facts._book_mix(s, start, end, cfg, KEYS)
    assert folded == whole and whole == ({"tag-sso": 30, "subj-export": 30, "tag-webhooks": 0}, 30)
    _tickets(factory, 5, "webhooks", 100)
    with transaction(factory) as s:  # a later session (a webhook refresh) within the hour
        assert ticket_facts._book_mix(s, start, end, cfg, KEYS) == whole
        # a batch asking for a signature the cached mix lacks reads the book again, with the
        # signatures the cache held, and the cache serves them all from then on
        wider = ticket_facts._book_mix(s, start, end, cfg, frozenset({"subj-fails"}))
        now = {"tag-sso": 30, "subj-export": 35, "tag-webhooks": 5, "subj-fails": 35}
        assert wider == (now, 35)
        assert ticket_facts._book_mix(s, start, end, cfg, KEYS) == wider
    ticket_facts.clear_book_cache()
    with transaction(factory) as s:
        assert ticket_facts._book_mix(s, start, end, cfg, KEYS)[0]["tag-webhooks"] == 5
