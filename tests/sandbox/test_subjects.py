"""Helpdesk-like subjects (`sandbox serve --subjects helpdesk`): mostly distinct, stable per
ticket, with the recurring problems the repeated-issue rule looks for."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from escalation.clusters import TicketFact, find_clusters, signature_keys
from sandbox import Sandbox
from sandbox.subjects import SubjectMaker, vocabulary
from sandbox.zd_shapes import ticket
from tests.sandbox.conftest import NOW


def test_subjects_are_mostly_distinct_and_stable_per_ticket() -> None:
    maker = SubjectMaker(seed=3)
    subjects = [maker.subject(t % 500, t) for t in range(10_000)]
    assert len(set(subjects)) > 0.8 * len(subjects)
    again = SubjectMaker(seed=3)
    assert subjects[:50] == [again.subject(t % 500, t) for t in range(50)]
    assert subjects[:50] != [SubjectMaker(seed=4).subject(t % 500, t) for t in range(50)]
    assert len(set(vocabulary(5_000, seed=3))) == 5_000
    keys = set().union(*(signature_keys(s, ()) for s in subjects))
    assert len(keys) > 5 * len(subjects)  # a whole topic mix grows far past the tickets


def test_an_account_with_recurring_problems_files_clusters() -> None:
    maker = SubjectMaker(seed=3)
    account = next(a for a in range(100) if len(maker.problems(a)) == 3)
    at = datetime(2026, 11, 1, tzinfo=UTC)
    tickets = [
        TicketFact(helpdesk_id=i, subject=maker.subject(account, i), status="open",
                   created_at=at + timedelta(hours=i))
        for i in range(60)
    ]  # fmt: skip
    clusters = find_clusters(tickets, min_tickets=3, similarity=0.5)
    problems = {" ".join(sorted(p.split())) for p in maker.problems(account)}
    named = {" ".join(sorted(c.signature.removeprefix("subj-").split("-"))) for c in clusters}
    assert named & problems  # the rule finds the account's own problems by their words


def test_a_world_served_with_helpdesk_subjects_keeps_a_written_subject() -> None:
    box = Sandbox(accounts=10, seed=5, now=NOW)
    world = box.world
    n = len(world.tickets)
    templates = {ticket(world, p, "https://x")["subject"] for p in range(n)}
    world.subjects = SubjectMaker(seed=5)
    served = [ticket(world, p, "https://x")["subject"] for p in range(n)]
    assert len(templates) <= 12 and len(set(served)) > 0.8 * n
    assert served == [ticket(world, p, "https://x")["subject"] for p in range(n)]  # stable
    world.tickets.extra.setdefault(0, {})["subject"] = "Renamed by an agent"
    assert ticket(world, 0, "https://x")["subject"] == "Renamed by an agent"
