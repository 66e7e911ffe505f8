"""The reviews stage after a committed mark looks only at what changed and decides what a pass
over the whole book decides: a renewal entering the window days later, an account given its
owner, a ticket solved then tagged, a workspace gaining its first user, a new quarter."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from escalation.operations import OperationsConfig
from model import marks
from model.tables import (
    Account,
    AppUser,
    Escalation,
    ExternalIdentity,
    OutboxItem,
    RcaReview,
    SyncCursor,
    Ticket,
    utcnow,
)
from sync import outbox, reviews
from sync.escalate import EscalationSystems
from sync.outbox import CreateRequest

CONFIG = OperationsConfig()
SYSTEMS = EscalationSystems({"crm": "crm", "helpdesk": "helpdesk"})


def _state(s: Session, requests: list[CreateRequest]) -> dict[str, list[str]]:
    s.flush()

    def rows(table: Any, *skip: str) -> list[str]:
        cols = [c for c in table.__table__.c if c.name not in {"id", *skip}]
        return sorted(json.dumps(dict(r), default=str) for r in s.execute(select(*cols)).mappings())

    tasks = sorted(json.dumps([r.key, r.payload], default=str, sort_keys=True) for r in requests)
    return {"rca": rows(RcaReview), "outbox": rows(OutboxItem, "created_at"), "tasks": tasks}


def collected(s: Session, now: dt.datetime) -> tuple[dict[str, int], list[Any]]:
    """The stage's counts and every creation it handed over."""
    requests: list[Any] = []
    return reviews.run_reviews(s, now, CONFIG, SYSTEMS, requests.extend), requests


def run(factory: sessionmaker[Session], now: dt.datetime) -> tuple[dict[str, int], list[str]]:
    """The stage as a run commits it, checked against the whole book (no mark, rolled back)."""
    with factory() as whole:
        whole.execute(delete(SyncCursor).where(SyncCursor.stream == reviews.MARK_STREAM))
        want = _state(whole, collected(whole, now)[1])
        whole.rollback()
    with factory() as s:
        counts, requests = collected(s, now)
        assert _state(s, requests) == want
        outbox.enqueue_creates(s, requests)
        s.commit()
    return counts, sorted(r.key for r in requests)


def add(factory: sessionmaker[Session], *rows: Any) -> list[int]:
    with factory() as s:
        s.add_all(rows)
        s.commit()
        return [getattr(r, "id", 0) for r in rows]


def edit(factory: sessionmaker[Session], table: Any, row_id: Any, **values: Any) -> None:
    with factory() as s:
        row = s.get(table, row_id)
        for k, v in values.items():
            setattr(row, k, v)
        s.commit()


def account(today: dt.date, n: int, renewal_in: int | None, **kw: Any) -> Account:
    renewal = None if renewal_in is None else today + dt.timedelta(days=renewal_in)
    base = dict(name=f"A{n}", crm_source="sf", crm_id=f"001{n:05d}", owner_crm_id="005X",
                renewal_date=renewal)  # fmt: skip
    return Account(**{**base, **kw})


def test_reviews_after_a_mark_look_only_at_changes_and_decide_as_the_whole_book(
    factory, monkeypatch
) -> None:
    monkeypatch.setattr(marks, "MARGIN", dt.timedelta(0))  # nothing else writes here
    now = utcnow()
    today = now.date()
    late, soon, ownerless, users = add(
        factory,
        account(today, 1, 95),  # enters the 90-day window in 5 days
        account(today, 2, 30),
        account(today, 3, 20, owner_crm_id=None),
        account(today, 4, None),
    )
    add(
        factory,
        ExternalIdentity(source="usage", kind="workspace", external_id="w4", account_id=users,
                         status="linked"),
        ExternalIdentity(source="usage", kind="workspace", external_id="w1", account_id=late,
                         status="linked"),
    )  # fmt: skip
    add(factory, AppUser(source="usage", external_id="u1", workspace_id="w4", email="a@x.io"))
    [esc] = add(
        factory,
        Escalation(dedup_key="k", account_id=soon, rule="engineering", severity="high",
                   title="t", helpdesk_ticket_id=77, opened_at=now),
    )  # fmt: skip
    [ticket] = add(
        factory,
        Ticket(source="zendesk", helpdesk_id=77, account_id=soon, status="open",
               created_at=now, updated_at=now),
    )  # fmt: skip

    counts, keys = run(factory, now)
    assert counts["whole_book"] and any(f"a{soon}:" in k for k in keys)
    assert any(k.startswith(f"ops:access_review:a{users}:") for k in keys)
    counts, keys = run(factory, utcnow())
    assert counts["changed_only"] and keys == []

    edit(factory, Account, ownerless, owner_crm_id="005Y")  # the owner is set: its review
    edit(factory, Ticket, ticket, status="solved", solved_at=utcnow())  # an RCA owed
    add(factory, AppUser(source="usage", external_id="u2", workspace_id="w1", email="b@x.io"))
    counts, keys = run(factory, utcnow())
    assert counts["changed_only"] and counts["rca_opened"] == 1
    assert any(f"a{ownerless}:" in k for k in keys)
    assert any(k.startswith(f"ops:access_review:a{late}:") for k in keys)

    edit(factory, Ticket, ticket, tags=["rca_done"])
    counts, _ = run(factory, utcnow())
    assert counts["rca_done"] == 1
    with factory() as s:
        assert s.scalars(select(RcaReview.done_by).where(RcaReview.escalation_id == esc)).one()

    later = utcnow() + dt.timedelta(days=5)  # the late renewal enters the window
    counts, keys = run(factory, later)
    assert counts["changed_only"] and [k for k in keys if "renewal_review" in k] == [
        f"ops:renewal_review:a{late}:{(today + dt.timedelta(days=95)).isoformat()}"
    ]
    next_quarter = later + dt.timedelta(days=92)  # every account's access review again
    counts, keys = run(factory, next_quarter)
    assert counts["changed_only"]  # the renewals and RCAs: changes only; access: the quarter
    assert {k.rsplit(":", 1)[0] for k in keys if "access_review" in k} == {
        f"ops:access_review:a{users}",
        f"ops:access_review:a{late}",
    }
