"""Lifecycle: open once, update instead of duplicate, auto-resolve, cooldown, reviews."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from escalation import lifecycle
from escalation.actions import CommentOnTicket, CreateEngineeringTicket, CreateOwnerTask
from escalation.config import EscalationConfig
from escalation.facts import gather_facts
from escalation.lifecycle import reconcile
from escalation.rules import evaluate
from model.tables import Escalation
from tests.escalation import factories as f
from tests.escalation.factories import NOW


def run(session, config: EscalationConfig, accounts, now=NOW):
    ids = [a.id for a in accounts]
    facts = gather_facts(session, now.date(), ids, config)
    decisions = {i: evaluate(facts[i], config) for i in ids}
    return reconcile(session, decisions, now, config)


def escalations(session) -> list[Escalation]:
    return list(session.scalars(select(Escalation).order_by(Escalation.id)))


def red_account(session, **kw):
    acc = f.account(session, **kw)
    f.snapshot(session, acc, 7, "yellow", 50)
    f.snapshot(session, acc, 0, "red", 30)
    return acc


def repeat_account(session, n=3):
    acc = f.account(session, arr=600_000, tier="strategic")
    f.snapshot(session, acc, 0, "green", 80)
    tickets = [f.ticket(session, acc, "Sync job crashes nightly", days_ago=i + 1) for i in range(n)]
    return acc, tickets


def with_rules(config: EscalationConfig, **lifecycle_changes) -> EscalationConfig:
    lc = config.lifecycle.model_copy(update=lifecycle_changes)
    return config.model_copy(update={"lifecycle": lc})


def test_open_emits_actions_once_and_rerun_emits_nothing(session, config):
    acc = red_account(session)
    first = run(session, config, [acc])
    session.commit()
    assert [a.kind for a in first] == ["create_owner_task", "tag_customer_tickets"]
    task = first[0]
    assert isinstance(task, CreateOwnerTask)
    assert task.key == f"esc:{acc.id}:band_red:band_red#1:task"
    assert task.owner_crm_id == acc.owner_crm_id and task.account_crm_id == acc.crm_id
    assert "Playbook:" in task.description and "Risk assessment:" in task.description
    (esc,) = escalations(session)
    assert (esc.state, esc.rule, esc.dedup_key) == (
        "open",
        "band_red",
        f"{acc.id}:band_red:band_red",
    )
    assert run(session, config, [acc], now=NOW + timedelta(hours=1)) == []
    session.commit()
    assert len(escalations(session)) == 1


def test_engineering_ticket_names_account_severity_evidence_and_links(session, config):
    acc, tickets = repeat_account(session)
    (ticket,) = [a for a in run(session, config, [acc]) if isinstance(a, CreateEngineeringTicket)]
    dedup = f"{acc.id}:repeated_issue:repeat_subj-crashes-job"
    assert ticket.key == f"esc:{dedup}#1:ticket"
    assert ticket.external_id == f"pulsehub:{dedup}#1"
    assert ticket.type == "problem"
    assert ticket.linked_ticket_ids == [t.helpdesk_id for t in reversed(tickets)]  # oldest first
    assert {"pulsehub_escalation", ticket.subject[1:5].lower()} <= set(ticket.tags)
    assert acc.name in ticket.body and "Severity SEV" in ticket.body
    assert all(f"#{t.helpdesk_id}" in ticket.body for t in tickets)
    assert "ARR at stake" in ticket.body


def test_update_comments_once_when_linked_tickets_change(session, config):
    acc, _ = repeat_account(session)
    run(session, config, [acc])
    session.commit()
    (esc,) = escalations(session)
    lifecycle.record_pushed(esc, helpdesk_ticket_id=9001)
    new = f.ticket(session, acc, "Sync job crashes again nightly", days_ago=0.1)
    actions = run(session, config, [acc], now=NOW + timedelta(hours=1))
    assert len(actions) == 1
    comment = actions[0]
    assert isinstance(comment, CommentOnTicket)
    assert comment.helpdesk_ticket_id == 9001
    assert comment.key.endswith("#1:update-1")
    assert f"#{new.helpdesk_id}" in comment.body
    session.commit()
    assert run(session, config, [acc], now=NOW + timedelta(hours=2)) == []
    assert len(escalations(session)) == 1


def test_auto_resolve_with_note_cooldown_and_review(session, config):
    acc = red_account(session, arr=600_000, tier="strategic")
    f.renewal(session, acc, in_days=20, amount=600_000)
    opened = run(session, config, [acc])
    session.commit()
    assert {e.severity for e in escalations(session)} == {"sev1"}
    f.snapshot(session, acc, -1, "green", 80)
    later = NOW + timedelta(days=1)
    actions = run(session, config, [acc], now=later)
    session.commit()
    assert len(opened) > 0
    esc = next(e for e in escalations(session) if e.rule == "band_red")
    assert esc.state == "resolved"
    assert esc.resolved_at == later
    assert "condition cleared" in (esc.resolution_note or "")
    assert esc.cooldown_until == later + timedelta(days=14)
    assert esc.review_due_at == later + timedelta(hours=72)
    keys = {a.key.rsplit(":", 1)[-1] for a in actions if a.key.startswith(f"esc:{acc.id}:band_red")}
    assert keys == {"tags-remove", "review"}
    review = next(a for a in actions if a.key.endswith("band_red#1:review"))
    assert isinstance(review, CreateOwnerTask)
    assert review.due_date == (later + timedelta(hours=72)).date()
    assert review.owner_crm_id == acc.owner_crm_id


def test_low_severity_resolution_needs_no_review(session, config):
    acc = red_account(session, arr=5_000)
    run(session, config, [acc])
    f.snapshot(session, acc, -1, "green", 80)
    actions = run(session, config, [acc], now=NOW + timedelta(days=1))
    (esc,) = escalations(session)
    assert esc.state == "resolved" and esc.review_due_at is None
    assert [a.key.rsplit(":", 1)[-1] for a in actions] == ["tags-remove"]


def test_cooldown_suppresses_flapping_then_reopens_as_next_episode(session, config):
    acc = red_account(session)
    run(session, config, [acc])
    f.snapshot(session, acc, -1, "green", 80)
    run(session, config, [acc], now=NOW + timedelta(days=1))
    f.snapshot(session, acc, -2, "red", 30)
    assert run(session, config, [acc], now=NOW + timedelta(days=2)) == []
    (esc,) = escalations(session)
    assert esc.state == "resolved"
    after = NOW + timedelta(days=16)
    f.snapshot(session, acc, -16, "red", 30)
    actions = run(session, config, [acc], now=after)
    assert esc.state == "open" and esc.opened_at == after and esc.resolved_at is None
    assert esc.details["episode"] == 2
    assert [e["episode"] for e in esc.details["episodes"]] == [1, 2]
    assert {a.key.split("#")[1] for a in actions} == {"2:task", "2:tags-add"}


def test_ask_mode_keeps_open_and_asks_once(session, config):
    ask = with_rules(config, on_clear="ask")
    acc, tickets = repeat_account(session)
    run(session, ask, [acc])
    for t in tickets:
        t.created_at = f.at(40)
    actions = run(session, ask, [acc], now=NOW + timedelta(days=1))
    (esc,) = escalations(session)
    assert esc.state == "open"
    (comment,) = actions
    assert isinstance(comment, CommentOnTicket) and comment.status is None
    assert "Please confirm" in comment.body
    assert run(session, ask, [acc], now=NOW + timedelta(days=2)) == []


def test_acknowledge_then_resolve_by_hand(session, config):
    acc = red_account(session)
    run(session, config, [acc])
    (esc,) = escalations(session)
    ack_at = NOW + timedelta(hours=3)
    assert lifecycle.acknowledge(esc, ack_at, by="olivia")
    assert not lifecycle.acknowledge(esc, ack_at)
    assert esc.state == "acknowledged" and esc.acknowledged_at == ack_at
    assert esc.details["episodes"][-1]["acknowledged_by"] == "olivia"
    actions = lifecycle.resolve(esc, config, NOW + timedelta(hours=5), note="customer call done")
    assert esc.state == "resolved" and esc.resolution_note == "customer call done"
    assert [a.key.rsplit(":", 1)[-1] for a in actions] == ["tags-remove"]
    assert lifecycle.resolve(esc, config, NOW + timedelta(hours=6), note="again") == []


def test_accounts_not_evaluated_are_left_alone(session, config):
    acc = red_account(session)
    run(session, config, [acc])
    assert reconcile(session, {}, NOW + timedelta(days=1), config) == []
    other = f.account(session)
    assert reconcile(session, {other.id: []}, NOW + timedelta(days=1), config) == []
    (esc,) = escalations(session)
    assert esc.state == "open"


def test_severity_rise_without_ticket_gives_new_owner_task(session, config):
    acc = red_account(session, arr=30_000)
    run(session, config, [acc])
    f.renewal(session, acc, in_days=10, amount=200_000)
    actions = run(session, config, [acc], now=NOW + timedelta(hours=1))
    band = [a for a in actions if ":band_red:" in a.key]
    assert [a.key.rsplit(":", 1)[-1] for a in band] == ["task-sev2"]


def test_engineering_ticket_taken_up_in_zendesk_acknowledges(session, config):
    taken, untouched, closed_before = (red_account(session) for _ in range(3))
    run(session, config, [taken, untouched, closed_before])
    by_account = {e.account_id: e for e in escalations(session)}
    picked_up = NOW + timedelta(hours=2)
    for acc, status in ((taken, "open"), (untouched, "new"), (closed_before, "pending")):
        zd = f.ticket(session, acc, "Escalation", days_ago=0, status=status, updated_at=picked_up)
        lifecycle.record_pushed(by_account[acc.id], helpdesk_ticket_id=zd.helpdesk_id)
    lifecycle.resolve(by_account[closed_before.id], config, NOW + timedelta(hours=1), note="done")

    later = NOW + timedelta(hours=5)
    assert lifecycle.acknowledge_from_tickets(session, later, [untouched.id]) == 0
    assert lifecycle.acknowledge_from_tickets(session, later) == 1
    esc = by_account[taken.id]
    assert esc.state == "acknowledged" and esc.acknowledged_at == picked_up
    assert esc.details["episodes"][-1]["acknowledged_by"] == (
        f"helpdesk: ticket {esc.helpdesk_ticket_id} is open"
    )
    assert by_account[untouched.id].state == "open"  # still `new`: nobody has it yet
    assert by_account[closed_before.id].state == "resolved"  # not re-opened by a stale ticket
    assert lifecycle.acknowledge_from_tickets(session, later) == 0  # once
