"""The O(change) inputs digest (scoring/changes.py `book_digests`, scoring/digest_marks.py)
equals the full digest for every account after each kind of change, on SQLite and
PostgreSQL, and recomputes only the accounts the change touched.

One book goes through a day of changes; after each, the incremental computation (from the
last committed mark) is compared with `input_digests` over the whole book on the same
database, and the accounts whose digest moved are the ones the change is about (so a change
the mark fails to see makes the comparison fail rather than pass by recomputing everyone).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from model import marks
from model.identity import decide
from model.links import propagate_links
from model.own_tags import ticket_content_key, ticket_state_key
from model.tables import (
    Account,
    AccountChange,
    Contact,
    Escalation,
    ExternalIdentity,
    Opportunity,
    ScoreOverride,
    Ticket,
    UsageDaily,
    utcnow,
)
from model.upsert import upsert_rows
from scoring.changes import book_digests, input_digests
from scoring.config import load_scorecard
from scoring.digest_marks import stored_digests
from sync.erasure import erase_account
from sync.mapping import SINKS

CARD = load_scorecard()
TODAY = utcnow().date()


@dataclass
class Book:
    """Nine accounts: a parent with two children, three watched ones, three fillers; each
    with a contact, a renewal, tickets of its organization, usage and a linked identity."""

    s: Session
    ids: dict[str, int] = field(default_factory=dict)
    seq: int = 0

    def build(self) -> None:
        for name in ("parent", "child1", "child2", "a", "b", "d", "f1", "f2", "f3"):
            n = len(self.ids) + 1
            acc = Account(
                name=f"Acme {name}", crm_source="salesforce", crm_id=f"001{n:015d}",
                segment="Mid-Market", arr=10_000.0 * n, customer_since=dt.date(2024, 1, 1),
                renewal_date=TODAY + dt.timedelta(days=100 + n),
            )  # fmt: skip
            self.s.add(acc)
            self.s.flush()
            self.ids[name] = acc.id
            self.s.add_all(
                [
                    Contact(source="salesforce", crm_id=f"003{n:015d}", account_id=acc.id,
                            account_crm_id=acc.crm_id, is_champion=True),
                    Opportunity(source="salesforce", crm_id=f"006{n:015d}", account_id=acc.id,
                                account_crm_id=acc.crm_id, type="Renewal", amount=1000.0 * n,
                                close_date=TODAY + dt.timedelta(days=100 + n)),
                    ExternalIdentity(source="zendesk", kind="organization", external_id=str(n),
                                     account_id=acc.id, status="linked", method="name"),
                    ExternalIdentity(source="usage", kind="workspace", external_id=f"ws-{n}",
                                     account_id=acc.id, status="linked", method="domain"),
                ]
            )  # fmt: skip
            for i in range(3):
                rated = {"csat": "good", "csat_at": utcnow() - dt.timedelta(days=1)}
                self.ticket(name, helpdesk_id=n * 100 + i, **(rated if i == 0 else {}))
            for i in range(5):
                self.s.add(
                    UsageDaily(workspace_id=f"ws-{n}", account_id=acc.id,
                               day=TODAY - dt.timedelta(days=i + 1), active_users=5 + n,
                               logins=10, features_used=3, seats_purchased=20)
                )  # fmt: skip
        _refresh_todays_usage(self, active_users=6)  # the feed's partial row for today
        for child in ("child1", "child2"):
            kid = self.s.get(Account, self.ids[child])
            assert kid is not None
            kid.parent_crm_id = self.account("parent").crm_id
        self.s.flush()
        propagate_links(self.s)
        self.s.add(
            Escalation(dedup_key="esc-a", account_id=self.ids["a"], rule="r", severity="high",
                       title="t", opened_at=utcnow() - dt.timedelta(hours=2))
        )  # fmt: skip
        self.s.add(
            ScoreOverride(account_id=self.ids["b"], band="green", reason="CSM knows",
                          created_at=utcnow() - dt.timedelta(days=1),
                          expires_at=utcnow() + dt.timedelta(seconds=30))
        )  # fmt: skip
        self.s.commit()

    def account(self, name: str) -> Account:
        acc = self.s.get(Account, self.ids[name])
        assert acc is not None
        return acc

    def ticket(self, name: str, **kw: Any) -> Ticket:
        n = list(self.ids).index(name) + 1
        created = utcnow() - dt.timedelta(days=3)
        t = Ticket(source="zendesk", helpdesk_id=kw.pop("helpdesk_id", None) or 9000 + self.seq,
                   helpdesk_org_id=n, account_id=self.ids[name], status="open",
                   created_at=created, updated_at=created, **kw)  # fmt: skip
        self.seq += 1
        self.s.add(t)
        self.s.flush()
        return t


@dataclass(frozen=True)
class Computed:
    digests: dict[int, str]  # as stored
    recomputed: int | None


def _run(s: Session, now: dt.datetime) -> Computed:
    """One committed incremental computation, its stored digests checked against the full
    computation at the same time."""
    recomputed = book_digests(s, TODAY, CARD, "prior", now=now).recomputed
    want, scorable = input_digests(s, TODAY, CARD, "prior", now=now)
    stored = stored_digests(s)
    got = {a: d for a, (d, _) in stored.items()}
    assert got == want
    assert {a for a, (_, scored) in stored.items() if scored} == scorable
    s.commit()
    return Computed(got, recomputed)


def _moved(before: Computed, after: Computed) -> set[int]:
    old, new = before.digests, after.digests
    return {a for a in old.keys() | new.keys() if old.get(a) != new.get(a)}


Change = Callable[[Book], None]


def _insert_ticket(book: Book) -> None:
    book.ticket("a")


def _upsert_usage(book: Book) -> None:
    """Through the pull's upsert: d's row changes, a's is re-read unchanged (no new stamp)."""
    rows = []
    for name, users in (("d", 99), ("a", 5 + list(book.ids).index("a") + 1)):
        n = list(book.ids).index(name) + 1
        rows.append(
            {"workspace_id": f"ws-{n}", "day": TODAY - dt.timedelta(days=1), "active_users": users,
             "logins": 10, "feature_events": 0, "features_used": 3, "seats_used": None,
             "seats_purchased": 20, "updated_at": utcnow()}
        )  # fmt: skip
    upsert_rows(book.s, UsageDaily.__table__, rows, key=["workspace_id", "day"])  # type: ignore[arg-type]


def _refresh_todays_usage(book: Book, active_users: int = 7) -> None:
    """The usage feed's partial row for today (refreshed by every pull): not a scored input."""
    n = list(book.ids).index("f3") + 1
    row = {"workspace_id": f"ws-{n}", "day": TODAY, "active_users": active_users, "logins": 1,
           "feature_events": 0, "features_used": 1, "seats_used": None, "seats_purchased": 20,
           "updated_at": utcnow()}  # fmt: skip
    upsert_rows(book.s, UsageDaily.__table__, [row], key=["workspace_id", "day"])  # type: ignore[arg-type]


def _move_ticket(book: Book) -> None:
    """A ticket of d's organization is re-read under f3's: the upsert clears its account (d
    is left, with no row naming it), linking points it at f3."""
    sink = SINKS["ticket"]
    t = book.s.scalars(select(Ticket).where(Ticket.account_id == book.ids["d"]).limit(1)).one()
    row = {"source": t.source, "helpdesk_id": t.helpdesk_id, "status": t.status,
           "helpdesk_org_id": list(book.ids).index("f3") + 1, "created_at": t.created_at,
           "updated_at": utcnow(), "synced_at": utcnow()}  # fmt: skip
    upsert_rows(book.s, sink.table, [row], key=sink.key, reset_on_change=dict(sink.reset_on_change))
    propagate_links(book.s, set())


def _read_back_band_tags(book: Book) -> None:
    """Write-back tagged a's tickets `health_red`: the helpdesk stamps them and the pull
    re-reads them. Not a change of a's inputs."""
    _repull(book, "a", tags=["health_red", "renewal_risk_high"])


def _edit_status_in_place(book: Book) -> None:
    """An agent puts one of b's tickets on hold (same length as "open": no sum moves)."""
    _repull(book, "b", status="hold", limit=1)


def _re_rate(book: Book) -> None:
    """A customer re-rates f2's rated ticket good -> bad, dated as before (at the solve)."""
    _repull(book, "f2", csat="bad", limit=1)


def _crm_modstamp_moved(book: Book) -> None:
    """pulsehub wrote f1's health fields to the crm, which moved its SystemModstamp: the
    account re-read with nothing else changed."""
    book.account("f1").source_modstamp = utcnow()


def _repull(book: Book, name: str, limit: int | None = None, **changes: Any) -> None:
    """The account's tickets re-read through the pull's upsert with `changes`, stamped now by
    the helpdesk, their keys computed as the mapping computes them."""
    sink = SINKS["ticket"]
    q = select(Ticket).where(Ticket.account_id == book.ids[name]).order_by(Ticket.id)
    rows = []
    for t in book.s.scalars(q.limit(limit)):
        row = {"source": t.source, "helpdesk_id": t.helpdesk_id, "helpdesk_org_id": t.helpdesk_org_id,
               "subject": t.subject, "status": t.status, "priority": t.priority, "type": t.type,
               "tags": list(t.tags), "csat": t.csat, "csat_at": t.csat_at,
               "created_at": t.created_at} | changes  # fmt: skip
        row |= {
            "content_key": ticket_content_key(row["subject"], row["tags"]),
            "state_key": ticket_state_key(row["status"], row["priority"], row["type"], row["csat"]),
            "updated_at": utcnow(), "synced_at": utcnow(),
        }  # fmt: skip
        rows.append(row)
    upsert_rows(book.s, sink.table, rows, key=sink.key, reset_on_change=dict(sink.reset_on_change))


def _soft_delete_renewal(book: Book) -> None:
    """As the reconcile marks a row the source no longer returns (a Core update)."""
    book.s.execute(
        update(Opportunity)
        .where(Opportunity.account_id == book.ids["child1"])
        .values(is_deleted=True)
        .execution_options(synchronize_session=False)
    )


def _relink(book: Book) -> None:
    """A reviewer links a's organization to b: the identity and its tickets move a -> b."""
    ident = book.s.scalars(
        select(ExternalIdentity).where(
            ExternalIdentity.account_id == book.ids["a"], ExternalIdentity.kind == "organization"
        )
    ).one()
    decide(book.s, ident.id, book.ids["b"])


def _reparent(book: Book) -> None:
    """child2 moves from parent to d in the crm; linking follows."""
    book.account("child2").parent_crm_id = book.account("d").crm_id
    book.s.flush()
    propagate_links(book.s)


def _resolve_escalation(book: Book) -> None:
    esc = book.s.scalars(select(Escalation).where(Escalation.dedup_key == "esc-a")).one()
    esc.state, esc.resolved_at = "resolved", utcnow()


def _revoke_override(book: Book) -> None:
    book.s.add(
        ScoreOverride(account_id=book.ids["f1"], band="red", reason="at risk",
                      created_at=utcnow() - dt.timedelta(days=1),
                      expires_at=utcnow() + dt.timedelta(days=5))
    )  # fmt: skip
    book.s.commit()


def _erase(book: Book) -> None:
    erase_account(book.s, book.ids["child1"], "test")


def _soft_delete_account(book: Book) -> None:
    book.account("f2").is_deleted = True


def test_incremental_digests_equal_full_after_every_kind_of_change(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    # no margin: a change committed after a mark is stamped after it (one process, one clock)
    monkeypatch.setattr(marks, "MARGIN", dt.timedelta(0))
    book = Book(session)
    book.build()
    ids = book.ids
    t0 = utcnow()
    last = _run(session, t0)
    assert last.recomputed is None  # no mark yet: in full

    steps: list[tuple[str, Change | None, set[str], set[str]]] = [
        ("no change", None, set(), set()),
        ("ticket inserted", _insert_ticket, {"a"}, {"a"}),
        ("usage upserted", _upsert_usage, {"d"}, {"d"}),
        ("today's partial usage refreshed", _refresh_todays_usage, set(), set()),
        ("ticket moved", _move_ticket, {"d", "f3"}, {"d", "f3"}),
        ("own band tags read back", _read_back_band_tags, set(), {"a"}),
        ("status edited in place", _edit_status_in_place, {"b"}, {"b"}),
        ("rating re-rated", _re_rate, {"f2"}, {"f2"}),
        ("crm modstamp moved by a write", _crm_modstamp_moved, set(), {"f1"}),
        ("renewal soft-deleted", _soft_delete_renewal, {"child1"}, {"child1"}),
        ("identity re-linked", _relink, {"a", "b"}, {"a", "b"}),
        ("parent changed", _reparent, {"child2", "parent", "d"}, {"child2", "parent", "d"}),
        ("escalation resolved", _resolve_escalation, {"a"}, {"a"}),
        ("override set", _revoke_override, {"f1"}, {"f1"}),
        ("account erased", _erase, {"child1", "parent"}, {"parent"}),
        ("account soft-deleted", _soft_delete_account, {"f2"}, set()),
    ]
    for label, change, moved, bound in steps:
        if change is not None:
            change(book)
            session.commit()
        now = utcnow()
        got = _run(session, now)
        assert _moved(last, got) == {ids[n] for n in moved}, label
        assert got.recomputed == len(bound), label  # only what the change can reach
        last = got

    # an override expires between two runs: no row changes, the moment crosses its expiry
    later = t0 + dt.timedelta(minutes=2)
    got = _run(session, later)
    assert _moved(last, got) == {ids["b"]}
    last = got
    # revoked by hand
    o = session.scalars(select(ScoreOverride).where(ScoreOverride.account_id == ids["f1"])).one()
    o.revoked = True
    session.commit()
    got = _run(session, later)
    assert _moved(last, got) == {ids["f1"]}
    assert got.recomputed == 1
    assert session.scalar(select(AccountChange.id).limit(1)) is None  # all consumed


def test_a_rolled_back_computation_leaves_the_mark_and_the_change_log(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(marks, "MARGIN", dt.timedelta(0))
    book = Book(session)
    book.build()
    first = _run(session, utcnow())
    _relink(book)  # logs a (the account the identity left)
    session.commit()
    book_digests(session, TODAY, CARD, "prior", now=utcnow())  # a dry run: rolled back
    session.rollback()
    assert session.scalar(select(AccountChange.account_id)) == book.ids["a"]
    got = _run(session, utcnow())
    assert _moved(first, got) == {book.ids["a"], book.ids["b"]}


def test_a_row_stamped_before_the_mark_but_committed_after_it_is_within_the_margin(
    session: Session,
) -> None:
    """A writer stamps its rows, then commits: a ticket stamped 30 s before the mark's
    computation started but committed after it is still read by the next run."""
    book = Book(session)
    book.build()
    started = utcnow()
    first = _run(session, started)
    late = book.ticket("d")
    late.synced_at = started - dt.timedelta(seconds=30)
    session.commit()
    got = _run(session, utcnow())
    assert book.ids["d"] in _moved(first, got)


def test_a_configuration_change_recomputes_every_digest(session: Session) -> None:
    Book(session).build()
    _run(session, utcnow())
    got = book_digests(session, TODAY, CARD, "fitted:7", now=utcnow())
    assert got.recomputed is None
    assert book_digests(session, TODAY, CARD, "fitted:7", now=utcnow()).recomputed is not None
    assert book_digests(session, TODAY, CARD, "fitted:7", full=True).recomputed is None


def test_digests_hashed_as_parts_arrive_equal_the_digest_of_the_whole_list() -> None:
    """Stored digests stay valid: hashing each account's parts as they arrive gives the digest
    of its whole parts list (`_hash`), for any values a row or an aggregate can hold."""
    from scoring.changes import _hash, _Parts

    rows = {
        1: [(1, "Acmé GmbH", {"tier": "ünø"}, None, 3.5), ("children", [4, 5]), ("usage", 2, 0.1)],
        2: [(2, "Beta", {}, dt.date(2026, 1, 2), None)],
    }
    parts = _Parts("2026-01-02|True|{}|model|x")
    for aid, (first, *_) in rows.items():
        parts.start(aid, first)
    for aid, (_, *rest) in rows.items():
        for part in rest:
            parts.add(aid, part)
    parts.add(99, ("usage", 1))  # an account not started (not live) is ignored
    assert list(parts.finish({2})) == [
        (aid, _hash("2026-01-02|True|{}|model|x", p), aid == 2) for aid, p in rows.items()
    ]
    assert not parts.open  # each hash let go as it is finished


def test_a_full_computation_in_id_ranges_equals_one_pass(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The whole book's digests go a range of account ids at a time: cut in ranges of two ids
    (parents, children and accounts with every kind of input on either side of a cut), they
    are the digests of one pass, and the range passes store them all."""
    from scoring import changes

    Book(session).build()
    now = utcnow()
    monkeypatch.setattr(changes, "FULL_RANGE", 10**9)
    whole, scorable = input_digests(session, TODAY, CARD, "prior", now=now)
    monkeypatch.setattr(changes, "FULL_RANGE", 2)
    assert input_digests(session, TODAY, CARD, "prior", now=now) == (whole, scorable)
    assert len(changes._ranges(session)) > 3
    book_digests(session, TODAY, CARD, "prior", now=now, full=True)
    assert {a: d for a, (d, _) in stored_digests(session).items()} == whole
