"""Which accounts an incremental run re-evaluates (escalation/scope.py), and why no other
account's decisions can have changed."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from connectors.zendesk_records import ZdTicket
from escalation.book_norms import BookNorm, book_expected
from escalation.config import EscalationConfig
from escalation.facts import gather_facts
from escalation.rules import evaluate
from escalation.scope import book_digest, escalation_scope
from escalation.ticket_facts import clear_book_cache, prepare_book_mix
from model.own_tags import ticket_content_key
from model.tables import Account, Escalation, EscalationEvaluation, SyncRun, Ticket, utcnow
from scoring.digest_marks import store_digests
from sync import escalate
from sync.escalate import EscalationSystems, run_escalations
from sync.mapping import SINKS
from sync.pull import store_rows
from tests.escalation.factories import AS_OF, account, ticket

SYSTEMS = EscalationSystems({"helpdesk": "zendesk", "crm": "salesforce"})


def test_a_book_norm_moves_only_when_the_value_the_rule_computes_moves() -> None:
    mix = (Counter({"tag-sso": 40, "subj-export-fails": 10}), 1000)
    norm = BookNorm("tag-sso", 5, 4, 10, book_expected(mix, "tag-sso", 5, 4, 10))
    assert norm.expected == 0.18  # 5 tickets x (40 - 4) / (1000 - 10)
    assert norm == BookNorm.from_row(norm.as_row())
    elsewhere = (Counter({"tag-sso": 40, "subj-export-fails": 15}), 1005)
    assert not norm.moved(elsewhere)  # other topics filed: the rounded value is the same
    assert norm.moved((Counter({"tag-sso": 60, "subj-export-fails": 10}), 1020))
    assert book_expected((Counter({"tag-sso": 4}), 10), "tag-sso", 5, 4, 10) == 0.0


class Book:
    """Accounts judged once by `run_escalations`, then a completed run, as the pipeline
    leaves them; `scope()` is what the next run re-evaluates."""

    def __init__(self, session: Session, config: EscalationConfig) -> None:
        self.s, self.config = session, config
        self.busy = account(session)  # three tickets on one problem: a cluster
        for i in range(3):
            ticket(session, self.busy, f"Login loop {i}", days_ago=2 + i, tags=["sso"])
        self.quiet = account(session)
        ticket(session, self.quiet, "How do I export", days_ago=3)
        self.churned = account(session, lifecycle_stage="churned")
        ticket(session, self.churned, "Cancel our plan", days_ago=4)
        self.digests = {a.id: f"digest-{a.id}" for a in (self.busy, self.quiet, self.churned)}
        clear_book_cache()
        run_escalations(session, AS_OF, config, systems=SYSTEMS, digests=self.digests)
        now = utcnow()
        stats = {"incremental": {"book": book_digest(session, AS_OF, config)}}
        session.add(SyncRun(kind="sync", status="succeeded", started_at=now,
                            finished_at=now, stats=stats))  # fmt: skip
        session.flush()

    def scope(self, **changed: str) -> set[int]:
        clear_book_cache()  # a run of its own process reads the mix afresh
        digests = {**self.digests, **{getattr(self, k).id: v for k, v in changed.items()}}
        _store(self.s, digests)  # as the run's scoring step stores them
        out, _ = escalation_scope(self.s, AS_OF, utcnow(), self.config, [])
        return out


def _store(session: Session, digests: dict[int, str]) -> None:
    store_digests(session, [(a, d, True) for a, d in digests.items()], None)


def test_only_accounts_whose_inputs_changed_are_re_evaluated(session, shipped) -> None:
    book = Book(session, shipped)
    evaluated = session.get(EscalationEvaluation, book.busy.id)
    assert evaluated is not None and [n.signature for n in map(BookNorm.from_row, evaluated.book_norms)] == ["tag-sso"]  # fmt: skip
    assert book.scope() == set()
    assert book.scope(churned="moved") == {book.churned.id}
    session.add(Account(crm_source="salesforce", crm_id="001NEW", name="New Co"))
    session.flush()
    new = session.query(Account).filter_by(crm_id="001NEW").one()
    _store(session, {new.id: "x"})
    out, _ = escalation_scope(session, AS_OF, utcnow(), shipped, [])
    assert out == {new.id}  # never evaluated: no digest to compare with


def test_a_churned_account_cannot_change_its_answer_without_its_inputs(session, shipped) -> None:
    """Its facts are read as of the end of the day from its own rows (gather_facts takes no
    clock), so the rules' answer for it is the same until those rows or the day change: the
    rest of the book moving (here: the busy account's tickets) leaves it as it was."""
    book = Book(session, shipped)
    before = evaluate(gather_facts(session, AS_OF, [book.churned.id], shipped)[book.churned.id], shipped)  # fmt: skip
    for i in range(4):
        ticket(session, book.busy, f"Login loop again {i}", days_ago=1, tags=["sso"])
    after = evaluate(gather_facts(session, AS_OF, [book.churned.id], shipped)[book.churned.id], shipped)  # fmt: skip
    assert before == after
    assert book.churned.id not in book.scope(busy="new tickets")


def test_a_book_change_brings_in_only_accounts_whose_norm_moved(session, shipped) -> None:
    book = Book(session, shipped)
    ticket(session, book.quiet, "Where is the invoice", days_ago=1)  # another topic
    assert book.scope(quiet="new ticket") == {book.quiet.id}  # the busy account's norm holds
    for i in range(6):  # the rest of the book now files the busy account's problem too
        ticket(session, book.quiet, f"SSO broken {i}", days_ago=1, tags=["sso"])
    assert book.scope(quiet="sso tickets") == {book.quiet.id, book.busy.id}


def test_escalations_moved_by_people_or_time_are_re_evaluated(session, shipped) -> None:
    book = Book(session, shipped)
    long_ago = utcnow() - timedelta(days=5)

    def resolved(acc: Account, cooldown: timedelta) -> None:
        session.add(Escalation(
            dedup_key=f"k-{acc.id}", account_id=acc.id, rule="band_red", severity="sev3",
            state="resolved", title="t", details={}, opened_at=long_ago, updated_at=long_ago,
            resolved_at=long_ago, cooldown_until=utcnow() + cooldown,
        ))  # fmt: skip
        session.flush()
        # onupdate/default would stamp now: put it back to long ago, as if untouched since
        session.query(Escalation).filter_by(account_id=acc.id).update({"updated_at": long_ago})

    resolved(book.quiet, timedelta(days=3))  # still cooling down past the next hour
    resolved(book.churned, timedelta(minutes=20))  # its cooldown ends before the reconcile
    assert book.scope() == {book.churned.id}
    esc = session.query(Escalation).filter_by(account_id=book.quiet.id).one()
    esc.state = "open"  # reopened by hand
    esc.updated_at = utcnow()
    session.flush()
    assert book.scope() == {book.churned.id, book.quiet.id}


def test_an_engineering_ticket_taken_up_brings_its_account_in(session, shipped) -> None:
    """`acknowledge_from_tickets` acknowledges it on the run that evaluates the account."""
    book = Book(session, shipped)
    eng = ticket(session, book.busy, "Engineering: login loop", days_ago=1, status="new")
    long_ago = utcnow() - timedelta(days=5)
    session.add(Escalation(
        dedup_key="k-eng", account_id=book.busy.id, rule="repeated_issue", severity="sev2",
        state="open", title="t", details={}, helpdesk_ticket_id=eng.helpdesk_id,
        opened_at=long_ago, updated_at=long_ago,
    ))  # fmt: skip
    session.flush()
    session.query(Escalation).filter_by(dedup_key="k-eng").update({"updated_at": long_ago})
    assert book.scope() == set()
    eng.status = "open"  # an agent was assigned
    session.flush()
    assert book.scope() == {book.busy.id}


def test_the_book_digest_moves_with_topics_not_with_replies_or_band_tags(session, shipped) -> None:
    """What moves it is what the topic mix reads: which tickets are in the window, their
    subjects and tags. A reply, a status change or a band tag write-back put on the ticket
    (read back by the next pull) leave the mix, and so the digest, as they were."""
    acc = account(session)
    t = ticket(session, acc, "Login loop", days_ago=2, tags=["sso"])
    before = book_digest(session, AS_OF, shipped)
    t.status, t.updated_at = "pending", t.updated_at + timedelta(hours=5)
    t.tags = ["sso", "health_red", "renewal_risk_high"]
    session.flush()
    assert book_digest(session, AS_OF, shipped) == before
    t.tags = ["sso", "billing"]
    session.flush()
    tagged = book_digest(session, AS_OF, shipped)
    assert tagged != before
    t.subject = "Login loop after SSO change"
    session.flush()
    assert book_digest(session, AS_OF, shipped) not in {before, tagged}


def test_the_pull_stores_the_key_the_orm_would(session, shipped) -> None:
    """Tickets come in through the pull's upsert (no ORM events): its row carries the key."""
    acc = account(session)
    record = {"id": 990001, "subject": "Export fails", "status": "open", "tags": ["csv"],
              "created_at": f"{AS_OF - timedelta(days=2)}T10:00:00Z",
              "updated_at": f"{AS_OF - timedelta(days=2)}T10:00:00Z"}  # fmt: skip

    def pull(**changed: object) -> str:
        store_rows(session, SINKS["ticket"], [SINKS["ticket"].row(ZdTicket.model_validate({**record, **changed}), "zendesk")])  # fmt: skip
        session.query(Ticket).filter_by(helpdesk_id=990001).update({"account_id": acc.id})
        return book_digest(session, AS_OF, shipped)

    first = pull()
    stored = session.query(Ticket).filter_by(helpdesk_id=990001).one()
    assert stored.content_key == ticket_content_key("Export fails", ["csv"])
    later = f"{AS_OF - timedelta(days=1)}T09:00:00Z"
    assert pull(updated_at=later, tags=["csv", "health_yellow"], status="pending") == first
    assert pull(updated_at=later, tags=["csv", "sso"]) != first


@pytest.mark.parametrize("whole_book_at", [0, 5_000])
def test_a_run_of_several_batches_reads_the_mix_up_front_and_decides_the_same(
    session, shipped, monkeypatch, whole_book_at
) -> None:
    book = Book(session, shipped)  # three accounts, one batch: it reads the mix as it goes

    def state() -> tuple[dict[int, object], set[tuple[str, str]]]:
        session.expire_all()
        norms = {e.account_id: e.book_norms for e in session.query(EscalationEvaluation)}
        rows = {(e.dedup_key, e.state) for e in session.query(Escalation)}
        return norms, rows

    before = state()
    assert any(before[0].values())  # the busy account's cluster read the book
    prepared: list[object] = []
    monkeypatch.setattr(escalate, "FACTS_BATCH", 1)  # three batches
    monkeypatch.setattr(escalate, "WHOLE_BOOK_AT", whole_book_at)  # 0: from every account's
    monkeypatch.setattr(
        escalate, "prepare_book_mix", lambda *a: prepared.append(a[3]) or prepare_book_mix(*a)
    )
    clear_book_cache()
    run_escalations(session, AS_OF, shipped, systems=SYSTEMS, digests=book.digests)
    assert len(prepared) == 1 and state() == before
    assert prepared[0] is None if whole_book_at == 0 else len(prepared[0]) == 3  # type: ignore[arg-type]
