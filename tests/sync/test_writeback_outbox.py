"""Planner diff, outbox merge/supersede, per-record results, dead letters."""

from __future__ import annotations

from sqlalchemy import select, update

from connectors.records import WriteResult
from model.db import transaction
from model.tables import OutboxItem, Ticket, WrittenState
from sync import outbox, push
from sync.push import Route
from sync.writeback import plan_chunks, plan_writeback
from tests.sync.factories import TARGETS, account, linked_org, snapshot, ticket
from tests.sync.pushers import ok_pusher


def _world(factory, band: str = "red") -> int:
    with transaction(factory) as s:
        acc = account(1)
        s.add(acc)
        s.flush()
        s.add_all(
            [
                snapshot(acc.id, band=band),
                linked_org(500, acc.id),
                ticket(9001, acc.id),
                ticket(9002, acc.id, status="solved"),
            ]
        )
        return acc.id


def _kinds(plan) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for p in plan:
        out.setdefault(p.kind, []).append(p.target_id)
    return out


def test_plan_covers_owned_outputs_only_for_open_tickets(factory) -> None:
    _world(factory)
    with transaction(factory) as s:
        plan = plan_writeback(s, TARGETS)
    kinds = _kinds(plan)
    assert kinds == {
        "crm_account_fields": ["001000000000000001"],
        "helpdesk_org_fields": ["500"],
        "helpdesk_ticket_tags": ["9001"],
    }
    sf = next(p for p in plan if p.kind == "crm_account_fields").payload["fields"]
    assert sf["health_band"] == "Red" and sf["health_score"] == 40
    assert sf["renewal_risk_level"] == "High" and sf["renewal_risk"] == 62.0
    tags = next(p for p in plan if p.kind == "helpdesk_ticket_tags").payload
    assert tags == {"add": ["health_red", "renewal_risk_high"], "remove": []}


def _routes(calls: list[int]) -> dict[str, Route]:
    return {k: Route(ok_pusher(calls), 200) for k in outbox.FIELD_KINDS}


def test_second_plan_after_push_is_empty_and_band_change_replaces_tags(factory) -> None:
    acc_id = _world(factory)
    with transaction(factory) as s:
        outbox.enqueue_plan(s, plan_writeback(s, TARGETS))
    calls: list[int] = []
    stats = push.drain(factory, _routes(calls))
    assert stats.done == 3 and stats.dead == 0
    with transaction(factory) as s:
        assert plan_writeback(s, TARGETS) == []  # nothing changed -> nothing to write
    with transaction(factory) as s:
        s.add(
            snapshot(acc_id, band="yellow", score=60, as_of=snapshot(acc_id).as_of.replace(day=2))
        )
    with transaction(factory) as s:
        plan = plan_writeback(s, TARGETS)
    tags = next(p for p in plan if p.kind == "helpdesk_ticket_tags").payload
    assert tags == {"add": ["health_yellow"], "remove": ["health_red"]}


def test_replanning_merges_into_pending_and_supersedes_reverted(factory) -> None:
    acc_id = _world(factory)
    with transaction(factory) as s:
        assert outbox.enqueue_plan(s, plan_writeback(s, TARGETS)) == 3
    with transaction(factory) as s:
        assert outbox.enqueue_plan(s, plan_writeback(s, TARGETS)) == 0  # same plan: no new rows
        assert s.query(OutboxItem).filter_by(status="pending").count() == 3
    # the account gets scored back to what was... never written: still pending, payload replaced
    with transaction(factory) as s:
        s.add(
            snapshot(
                acc_id,
                band="green",
                score=90,
                as_of=snapshot(acc_id).as_of.replace(day=3),
                risk_level="low",
                renewal_risk=0.1,
            )
        )
    with transaction(factory) as s:
        outbox.enqueue_plan(s, plan_writeback(s, TARGETS))
        pending = s.query(OutboxItem).filter_by(status="pending").all()
        assert len(pending) == 3
        sf = next(i for i in pending if i.kind == "crm_account_fields")
        assert sf.payload["fields"]["health_band"] == "Green"


def test_mixed_results_retry_and_dead_letter_with_api_message(factory) -> None:
    _world(factory)
    with transaction(factory) as s:
        outbox.enqueue_plan(s, plan_writeback(s, TARGETS))

    def flaky(items):
        return [
            WriteResult(
                target_id=str(i.target_id),
                ok=False,
                retriable=True,
                error_code="UNABLE_TO_LOCK_ROW",
                message="unable to obtain exclusive access to this record",
            )
            for i in items
        ]

    def invalid(items):
        return [
            WriteResult(
                target_id=str(i.target_id),
                ok=False,
                retriable=False,
                error_code="INVALID_FIELD",
                message="No such column 'Health_Score__c' on sobject of type Account",
            )
            for i in items
        ]

    stats = push.drain(
        factory,
        {"crm_account_fields": Route(flaky, 200), "helpdesk_org_fields": Route(invalid, 100)},
    )
    assert (stats.retrying, stats.dead) == (1, 1)
    with transaction(factory) as s:
        sf = s.execute(
            select(OutboxItem).where(OutboxItem.kind == "crm_account_fields")
        ).scalar_one()
        org = s.execute(
            select(OutboxItem).where(OutboxItem.kind == "helpdesk_org_fields")
        ).scalar_one()
        assert sf.status == "pending" and sf.attempts == 1 and sf.next_attempt_at is not None
        assert "UNABLE_TO_LOCK_ROW" in (sf.last_error or "")
        assert org.status == "dead" and "No such column" in (org.last_error or "")
        assert s.query(WrittenState).count() == 0  # nothing recorded as written
        # not due yet: a drain right now does not hammer the API
    assert push.drain(factory, {"crm_account_fields": Route(flaky, 200)}).attempted == 0
    with transaction(factory) as s:
        assert outbox.retry_dead(s, [org.id]) == 1


def test_creations_are_queued_once_per_key(factory) -> None:
    req = outbox.CreateRequest(
        "esc:1:band_red:red#1:ticket", "zendesk", "helpdesk_ticket", {"subject": "x"}
    )
    with transaction(factory) as s:
        assert outbox.enqueue_creates(s, [req]) == 1
    with transaction(factory) as s:
        assert outbox.enqueue_creates(s, [req, req]) == 0
        assert s.query(OutboxItem).count() == 1


def test_batches_respect_route_size(factory) -> None:
    with transaction(factory) as s:
        for n in range(1, 451):
            s.add(account(n))
        s.flush()
        for acc in s.query(type(account(0))).all():
            s.add(snapshot(acc.id))
    with transaction(factory) as s:
        outbox.enqueue_plan(s, plan_writeback(s, TARGETS))
    calls: list[int] = []
    beats: list[int] = []  # a run's heartbeat: told after each batch, as the push goes on
    drained = push.drain(
        factory,
        {"crm_account_fields": Route(ok_pusher(calls), 200)},
        on_batch=lambda: beats.append(sum(calls)),
    )
    assert calls == [200, 200, 50]
    assert beats == [200, 400, 450] and drained.attempted == 450


def _book(factory, n: int) -> list[int]:
    """`n` accounts, each with a snapshot, a linked org and one open ticket."""
    ids = []
    with transaction(factory) as s:
        for i in range(1, n + 1):
            acc = account(i)
            s.add(acc)
            s.flush()
            s.add_all([snapshot(acc.id), linked_org(500 + i, acc.id), ticket(9000 + i, acc.id)])
            ids.append(acc.id)
    return ids


def test_streamed_plan_in_small_chunks_equals_the_whole_plan(factory) -> None:
    _book(factory, 7)
    with transaction(factory) as s:
        whole = sorted((p.kind, p.target_id, repr(p.payload)) for p in plan_writeback(s, TARGETS))
        chunks = list(plan_chunks(s, TARGETS, chunk_size=3))
    assert [len({p.account_id for p in c.writes}) for c in chunks] == [3, 3, 1]
    streamed = sorted((p.kind, p.target_id, repr(p.payload)) for c in chunks for p in c.writes)
    assert streamed == whole and len(whole) == 21
    with transaction(factory) as s:
        summary = outbox.enqueue_chunks(
            s, plan_chunks(s, TARGETS, chunk_size=3), sweep=True, sample=5
        )
    assert summary.planned == {
        "crm_account_fields": 7,
        "helpdesk_org_fields": 7,
        "helpdesk_ticket_tags": 7,
    }
    assert summary.enqueued == 21 and len(summary.sample) == 5
    with transaction(factory) as s:
        assert s.query(OutboxItem).filter_by(status="pending").count() == 21
        again = outbox.enqueue_chunks(s, plan_chunks(s, TARGETS, chunk_size=2), sweep=True)
        assert again.enqueued == 0 and again.planned == summary.planned  # merged, not doubled
        assert s.query(OutboxItem).filter_by(status="pending").count() == 21


def test_targeted_plan_leaves_other_accounts_pending_writes_alone(factory) -> None:
    first, _ = _book(factory, 2)
    with transaction(factory) as s:
        outbox.enqueue_chunks(s, plan_chunks(s, TARGETS), sweep=True)
    with transaction(factory) as s:  # a webhook refresh of the first account only
        chunks = plan_chunks(s, TARGETS, account_ids=[first])
        summary = outbox.enqueue_chunks(s, chunks, sweep=False)
        assert summary.total == 3 and {p.account_id for p in summary.sample} == {first}
        pending = s.query(OutboxItem).filter_by(status="pending").all()
        assert len(pending) == 6  # the second account's writes still wait for their push


def test_full_plan_supersedes_pending_writes_no_chunk_looked_at(factory) -> None:
    _world(factory)
    with transaction(factory) as s:
        outbox.enqueue_chunks(s, plan_chunks(s, TARGETS), sweep=True)
    with transaction(factory) as s:  # the open ticket is solved before its tags were pushed
        s.execute(update(Ticket).where(Ticket.helpdesk_id == 9001).values(status="solved"))
    with transaction(factory) as s:
        summary = outbox.enqueue_chunks(s, plan_chunks(s, TARGETS), sweep=True)
        assert "helpdesk_ticket_tags" not in summary.planned
        tag_item = s.execute(
            select(OutboxItem).where(OutboxItem.kind == "helpdesk_ticket_tags")
        ).scalar_one()
        assert tag_item.status == "superseded"
        assert s.query(OutboxItem).filter_by(status="pending").count() == 2
