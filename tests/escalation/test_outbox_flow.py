"""Through sync's outbox: reruns and a crash after enqueueing never queue a second creation."""

from __future__ import annotations

from types import SimpleNamespace

from sqlalchemy import func, select

from model.tables import Escalation, OutboxItem
from sync.escalate import EscalationSystems, escalation_systems, run_escalations
from sync.outbox import enqueue_creates
from tests.escalation import factories as f
from tests.escalation.factories import AS_OF

# a crm and a helpdesk under names of their own: what the outbox stores comes from these
SYSTEMS = EscalationSystems({"crm": "books", "helpdesk": "desk"}, crm_title="Books")


def seed(session):
    acc = f.account(session, arr=700_000, tier="Strategic")
    f.snapshot(session, acc, 0, "red", 20)
    for i in range(4):
        f.ticket(session, acc, "Scheduled export stuck in queue", days_ago=i + 1)
    session.commit()
    return acc


def outbox_kinds(session) -> list[str]:
    return sorted(session.scalars(select(OutboxItem.kind)))


def test_rerun_queues_each_creation_once(session, config):
    acc = seed(session)
    _, first = run_escalations(session, AS_OF, config, systems=SYSTEMS)
    assert enqueue_creates(session, first) == len(first)
    session.commit()
    assert "helpdesk_ticket" in outbox_kinds(session) and "crm_task" in outbox_kinds(session)
    ticket = session.scalars(select(OutboxItem).where(OutboxItem.kind == "helpdesk_ticket")).one()
    assert ticket.payload["external_id"].startswith("pulsehub:")
    assert ticket.key.endswith("#1:ticket")
    systems = dict(session.execute(select(OutboxItem.kind, OutboxItem.system)).all())
    assert systems["helpdesk_ticket"] == "desk" and systems["crm_task"] == "books"
    assert f", Books {acc.crm_id})" in ticket.payload["body"]
    _, second = run_escalations(session, AS_OF, config, systems=SYSTEMS)
    assert second == []
    session.commit()
    assert session.scalar(select(func.count()).select_from(OutboxItem)) == len(first)


def test_crash_after_reconcile_before_commit_requeues_same_keys(session, config):
    seed(session)
    _, first = run_escalations(session, AS_OF, config, systems=SYSTEMS)
    enqueue_creates(session, first)
    session.rollback()  # crash: neither escalations nor outbox rows were committed
    assert session.scalar(select(func.count()).select_from(Escalation)) == 0
    _, again = run_escalations(session, AS_OF, config, systems=SYSTEMS)
    assert enqueue_creates(session, again) == len(again)
    assert enqueue_creates(session, again) == 0  # a retry of the same batch queues nothing
    session.commit()
    assert sorted(r.key for r in first) == sorted(r.key for r in again)


def test_each_kind_of_action_goes_to_the_first_configured_source_of_that_kind():
    sources = [
        SimpleNamespace(name="books", kind="crm", title="Books"),
        SimpleNamespace(name="ledger", kind="crm", title="Ledger"),
        SimpleNamespace(name="desk", kind="helpdesk", title="Desk"),
    ]
    systems = escalation_systems(sources)  # type: ignore[arg-type]
    assert systems.sources == {"crm": "books", "helpdesk": "desk"}
    assert systems.crm_title == "Books"
    assert EscalationSystems().sources == {} and EscalationSystems().crm_title == "CRM"
