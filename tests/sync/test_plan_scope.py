"""plan_scope: when a plan covers the whole book, and which accounts it re-plans otherwise."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from model.db import transaction
from model.marks import MARGIN
from model.tables import Account, HealthSnapshot, OutboxItem, Ticket
from sync.deadband import DeadBand
from sync.plan_scope import (
    MARK_STREAM,
    changed_accounts,
    config_digest,
    plan_scope,
    read_mark,
    save_mark,
)
from tests.sync.factories import NOW, TARGETS, account, snapshot

DAY = NOW.date()


def test_whole_book_until_a_plan_of_the_same_day_and_configuration_committed(factory) -> None:
    key = config_digest(TARGETS, "own", DeadBand())
    with transaction(factory) as s:
        first = plan_scope(s, DAY, key, "o", NOW)
        assert first.accounts is None and "no plan committed yet" in first.reason
    with factory() as s:  # a dry run: the mark is rolled back with everything else
        save_mark(s, first.mark)
        s.rollback()
        assert read_mark(s) is None
    with transaction(factory) as s:
        save_mark(s, first.mark)
    later = NOW + dt.timedelta(hours=1)
    with transaction(factory) as s:
        assert plan_scope(s, DAY, key, "o", later).accounts == []
        assert plan_scope(s, DAY, key, "o", later, full="full score").accounts is None
        nxt = plan_scope(s, DAY + dt.timedelta(days=1), key, "o", later)
        assert nxt.reason == "whole book: first plan of the day"
        assert "configuration" in plan_scope(s, DAY, key + "x", "o", later).reason
        assert "owner" in plan_scope(s, DAY, key, "p", later).reason
    for policy, band in [("reassert", DeadBand()), ("own", DeadBand(score=2))]:
        assert config_digest(TARGETS, policy, band) != key


def test_a_mark_another_version_wrote_plans_the_whole_book(factory) -> None:
    from sync import cursors

    with transaction(factory) as s:
        cursors.save_cursor(s, MARK_STREAM, '{"day": "2026-03-01"}')
        assert read_mark(s) is None


def test_changed_accounts_since_the_mark(factory) -> None:
    """Re-scored, edited, ticket changed, written/dead-lettered: planned again; a ticket that
    left its account (no account now) brings back the account its pending write was for."""
    mark = NOW
    old, new = mark - MARGIN - dt.timedelta(minutes=5), mark + dt.timedelta(minutes=5)
    with transaction(factory) as s:
        accs = [account(n) for n in range(1, 8)]
        s.add_all(accs)
        s.flush()
        a = [x.id for x in accs]
        for x in accs:
            x.updated_at = old
        accs[1].updated_at = new  # edited
        s.add_all([snapshot(i, computed_at=old) for i in a])
        s.add(snapshot(a[0], as_of=DAY - dt.timedelta(days=1), computed_at=new))  # other day
        s.flush()
        s.scalars(select_snapshot(a[2])).one().computed_at = new  # re-scored
        s.add_all(
            [
                _ticket(10, a[3], new),  # a ticket of a[3] changed
                _ticket(11, None, new),  # a ticket that left a[4] (pending write below)
                _ticket(12, a[6], old),  # unchanged
            ]
        )
        s.add_all(
            [
                _item("t11", "helpdesk_ticket_tags", a[4], "pending", None),
                _item("001x", "crm_account_fields", a[5], "dead", new),  # dead-lettered since
                _item("001y", "crm_account_fields", a[6], "done", old),  # written before
            ]
        )
    with transaction(factory) as s:
        s.execute(Ticket.__table__.update().values(synced_at=old).where(Ticket.helpdesk_id == 12))
        s.execute(Ticket.__table__.update().values(synced_at=new).where(Ticket.helpdesk_id != 12))
        got = changed_accounts(s, DAY, mark, phase_id=0)
    assert got == {a[1], a[2], a[3], a[4], a[5]}
    # just before the mark: a row other processes write may have committed after the last
    # plan read (planned again); a snapshot, written by the run itself before it planned, not
    just_before = mark - MARGIN / 2
    with transaction(factory) as s:
        s.get(Account, a[0]).updated_at = just_before  # type: ignore[union-attr]
        s.scalars(select_snapshot(a[6])).one().computed_at = just_before
    with factory() as s:
        assert changed_accounts(s, DAY, mark, phase_id=0) == got | {a[0]}


def test_a_plan_of_more_than_half_the_book_is_a_whole_book_plan(factory) -> None:
    with transaction(factory) as s:
        accs = [account(n, updated_at=NOW - dt.timedelta(hours=1)) for n in range(1, 5)]
        s.add_all(accs)
        s.flush()
        s.add_all([snapshot(x.id, computed_at=NOW - dt.timedelta(hours=1)) for x in accs])
        save_mark(s, plan_scope(s, DAY, "k", "o", NOW).mark)
    later = NOW + dt.timedelta(hours=1)
    with transaction(factory) as s:
        for x in s.scalars(select(HealthSnapshot)).all()[:2]:
            x.computed_at = NOW + dt.timedelta(minutes=1)
    with factory() as s:
        assert len(plan_scope(s, DAY, "k", "o", later).accounts or ()) == 2
    with transaction(factory) as s:
        s.scalars(select(HealthSnapshot)).all()[2].computed_at = NOW + dt.timedelta(minutes=1)
    with factory() as s:
        assert plan_scope(s, DAY, "k", "o", later).reason == "whole book: 3 of 4 accounts changed"


def select_snapshot(account_id: int):  # type: ignore[no-untyped-def]
    return select(HealthSnapshot).where(
        HealthSnapshot.account_id == account_id, HealthSnapshot.as_of == DAY
    )


def _ticket(helpdesk_id: int, account_id: int | None, at: dt.datetime) -> Ticket:
    return Ticket(
        source="zendesk", helpdesk_id=helpdesk_id, account_id=account_id, status="open",
        created_at=at, updated_at=at,
    )  # fmt: skip


def _item(
    target: str, kind: str, account_id: int, status: str, done: dt.datetime | None
) -> OutboxItem:
    target_id = target.removeprefix("t")
    return OutboxItem(
        key=f"{kind}:{target}", system="zendesk" if kind.startswith("helpdesk") else "salesforce",
        kind=kind, target_id=target_id, account_id=account_id, status=status, done_at=done,
        payload={},
    )  # fmt: skip
