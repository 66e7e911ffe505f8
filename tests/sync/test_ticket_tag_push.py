"""Ticket health tags pushed to the sandbox: a lone ticket's add-and-remove is one request."""

from __future__ import annotations

from sqlalchemy import select

from connectors.zendesk import ZendeskConnector
from model.db import transaction
from model.tables import OutboxItem
from sandbox import Sandbox
from sandbox.tickets import DELETED
from sync import push
from sync.routes import writer_routes
from tests.sync.conftest import live_tickets


def _queue(factory, changes: list[tuple[int, list[str], list[str]]], run: int = 0) -> None:
    with transaction(factory) as s:
        s.add_all(
            OutboxItem(
                key=f"helpdesk_ticket_tags:{ticket}:{run}",
                system="zendesk",
                kind="helpdesk_ticket_tags",
                target_id=str(ticket),
                payload={"add": add, "remove": remove},
            )
            for ticket, add, remove in changes
        )


def _api(sb: Sandbox) -> list[tuple[str, str]]:
    return [(r["method"], r["path"]) for r in sb.requests if r["system"] == "zendesk"]


def _drain(factory, zd: ZendeskConnector) -> push.DrainStats:
    routes = writer_routes([zd.writer])
    return push.drain(factory, {"helpdesk_ticket_tags": routes["helpdesk_ticket_tags"]})


def test_a_lone_add_and_remove_is_one_job_polled_with_the_others(factory, sb, zd) -> None:
    lone, b, c = live_tickets(sb, 3)
    assert zd.add_ticket_tags(lone, ["health_green"]).ok
    before = sb.world.tickets.tag_list(lone - 1)
    sb.clear_log()
    _queue(
        factory,
        [
            (lone, ["health_red"], ["health_green"]),
            (b, ["health_yellow"], []),
            (c, ["health_yellow"], []),
        ],
    )
    stats = _drain(factory, zd)
    assert (stats.done, stats.dead, stats.retrying) == (3, 0, 0)
    calls = _api(sb)
    writes = [r for r in sb.requests if r["method"] == "PUT"]
    assert len(writes) == 2 and all(p.endswith("tickets/update_many.json") for _, p in calls[:2])
    mine = next(r for r in writes if r["query"]["ids"] == str(lone))
    assert mine["body"] == {
        "ticket": {"additional_tags": ["health_red"], "remove_tags": ["health_green"]}
    }
    polls = calls[2:]
    assert polls and all(p.endswith("job_statuses/show_many.json") for _, p in polls)
    assert len(polls) == 2, "the lone job's polls ride on the other job's: one request a round"
    after = sb.world.tickets.tag_list(lone - 1)
    assert "health_red" in after and "health_green" not in after
    assert set(before) - {"health_green"} <= set(after), "the ticket's other tags are kept"


def test_a_lone_add_and_remove_alone_takes_the_tags_endpoint(factory, sb, zd) -> None:
    [lone] = live_tickets(sb, 1)
    sb.clear_log()
    _queue(factory, [(lone, ["health_red"], ["health_green"])])
    assert _drain(factory, zd).done == 1
    path = f"/api/v2/tickets/{lone}/tags.json"
    assert _api(sb) == [("PUT", path), ("DELETE", path)], "fewer requests than a job + polls"


def test_replayed_change_is_idempotent_and_a_gone_ticket_dead_letters(factory, sb, zd) -> None:
    lone, b, c = live_tickets(sb, 3)
    sb.world.tickets.status[c - 1] = DELETED
    change = [(lone, ["health_red"], ["health_green"]), (b, ["health_yellow"], [])]
    _queue(factory, [*change, (c, ["health_red"], ["health_yellow"])])
    first = _drain(factory, zd)
    assert (first.done, first.dead, first.retrying) == (2, 1, 0)
    with transaction(factory) as s:
        dead = s.execute(select(OutboxItem).where(OutboxItem.status == "dead")).scalar_one()
        assert dead.target_id == str(c) and "RecordNotFound" in (dead.last_error or "")
    tags = sb.world.tickets.tag_list(lone - 1)
    _queue(factory, change, run=1)  # a replay after a lost response: the same requests again
    assert _drain(factory, zd).done == 2
    assert sb.world.tickets.tag_list(lone - 1) == tags


def test_escalation_tags_go_out_in_one_job_per_change(factory, sb, zd) -> None:
    """Escalation tags on customers' tickets share the health tags' jobs: three tickets (one
    named by two escalations) with one change are one update_many request of two ids."""
    a, b = live_tickets(sb, 2)
    with transaction(factory) as s:
        s.add_all(
            OutboxItem(
                key=f"esc:{n}:{ticket}",
                system="zendesk",
                kind="helpdesk_escalation_tags",
                target_id=f"esc:{n}:{ticket}",
                payload={"ticket_id": ticket, "add": ["pulsehub_escalation"], "remove": []},
            )
            for n, ticket in ((1, a), (1, b), (2, a))
        )
    sb.clear_log()
    routes = writer_routes([zd.writer])
    stats = push.drain(factory, {"helpdesk_escalation_tags": routes["helpdesk_escalation_tags"]})
    assert (stats.done, stats.retrying, stats.dead) == (3, 0, 0)
    writes = [r for r in sb.requests if r["system"] == "zendesk" and r["method"] != "GET"]
    assert [(r["method"], r["path"]) for r in writes] == [
        ("PUT", "/api/v2/tickets/update_many.json")
    ]
    assert writes[0]["query"]["ids"] == f"{a},{b}"
    for ticket in (a, b):
        assert "pulsehub_escalation" in sb.world.tickets.tag_list(ticket - 1)
