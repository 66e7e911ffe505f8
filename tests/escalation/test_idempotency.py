"""No duplicates across reruns, crashes and concurrent runs (SQLite and real PostgreSQL)."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from escalation import lifecycle
from escalation.actions import CreateEngineeringTicket, action_key, external_id, parse_action
from escalation.decisions import dedup_key
from escalation.facts import gather_facts
from escalation.lifecycle import reconcile
from escalation.rules import evaluate
from model.db import make_engine, make_session_factory
from model.tables import Base, Escalation
from tests.escalation import factories as f
from tests.escalation.factories import NOW


def decide(session, config, ids, now=NOW):
    facts = gather_facts(session, now.date(), ids, config)
    return {i: evaluate(facts[i], config) for i in ids}


# one problem per account: the same problem on every account is the book's norm, not a repeat
PROBLEMS = ("Webhook delivery delayed", "CSV export truncated", "Search index stale")


def seed(session) -> list[int]:
    ids = []
    for n in range(3):
        acc = f.account(session, arr=200_000, tier="strategic")
        f.snapshot(session, acc, 0, "red", 25)
        for i in range(3):
            f.ticket(session, acc, f"{PROBLEMS[n]} region {n}", days_ago=i + 1)
        ids.append(acc.id)
    session.commit()
    return ids


def test_crash_before_commit_then_rerun_gives_same_keys(session, config):
    ids = seed(session)
    first = reconcile(session, decide(session, config, ids), NOW, config)
    session.rollback()  # crashed before the escalations and their outbox rows were committed
    assert session.scalar(select(func.count()).select_from(Escalation)) == 0
    second = reconcile(session, decide(session, config, ids), NOW + timedelta(minutes=5), config)
    assert sorted(a.key for a in first) == sorted(a.key for a in second)
    tickets = [a for a in second if isinstance(a, CreateEngineeringTicket)]
    assert len(tickets) == 3
    assert [t.external_id for t in tickets] == [
        t.external_id for t in first if isinstance(t, CreateEngineeringTicket)
    ]


def test_crash_after_commit_before_recording_ticket_emits_nothing_new(session, config):
    """Ticket created in Zendesk, crash before helpdesk_ticket_id is recorded: the rerun stays quiet;
    the still-pending outbox row is retried with the same Idempotency-Key/external_id."""
    ids = seed(session)
    first = reconcile(session, decide(session, config, ids), NOW, config)
    session.commit()
    assert (
        reconcile(session, decide(session, config, ids), NOW + timedelta(minutes=1), config) == []
    )
    session.commit()
    assert session.scalar(select(func.count()).select_from(Escalation)) == len(
        {a.key.split("#")[0] for a in first}
    )


def test_action_keys_and_external_ids_are_stable_and_fit(config):
    long_key = dedup_key(123456789, "repeated_issue", "repeat_" + "x" * 400)
    assert len(long_key) <= 255
    key = action_key(long_key, 12, "notify-escalated-sev1")
    assert len(key) <= 255 and key.endswith("#12:notify-escalated-sev1")
    assert key == action_key(long_key, 12, "notify-escalated-sev1")
    assert external_id(long_key, 2) != external_id(long_key, 1)
    assert len(external_id(long_key, 2)) <= 255


def test_actions_round_trip_as_outbox_payloads(session, config):
    ids = seed(session)
    actions = reconcile(session, decide(session, config, ids), NOW, config)
    for a in actions:
        assert parse_action(a.model_dump(mode="json")) == a


def test_losing_an_insert_race_emits_no_duplicate(session, sessions, config, monkeypatch):
    """B read 'no escalation yet' before A committed its insert: ON CONFLICT keeps one row."""
    ids = seed(session)
    a_actions = reconcile(session, decide(session, config, ids), NOW, config)
    session.commit()
    monkeypatch.setattr(lifecycle, "_load", lambda *_: {})
    with sessions() as b:
        b_actions = reconcile(b, decide(b, config, ids), NOW, config)
        b.commit()
    assert a_actions and b_actions == []
    assert session.scalar(select(func.count()).select_from(Escalation)) == len(
        {a.key.split("#")[0] for a in a_actions}
    )


@pytest.fixture
def shared_factory(any_db_url):
    engine = make_engine(any_db_url)
    Base.metadata.create_all(engine)
    yield make_session_factory(engine)
    engine.dispose()


def test_two_concurrent_runs_open_each_escalation_once(shared_factory, config):
    with shared_factory() as s:
        ids = seed(s)
    results: dict[str, list] = {}
    errors: list[BaseException] = []
    a = shared_factory()
    results["a"] = reconcile(a, decide(a, config, ids), NOW, config)  # holds its inserts

    def run_b() -> None:
        try:
            with shared_factory() as b:
                results["b"] = reconcile(b, decide(b, config, ids), NOW, config)
                b.commit()
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    thread = threading.Thread(target=run_b)
    thread.start()
    a.commit()
    a.close()
    thread.join()
    assert errors == []
    keys = [x.key for x in results["a"] + results["b"]]
    assert len(keys) == len(set(keys))
    with shared_factory() as s:
        rows = s.scalars(select(Escalation.dedup_key)).all()
    assert len(rows) == len(set(rows)) == len({k.split("#")[0] for k in keys}) == 6
