"""Outbox retries of field and tag writes whose earlier send may have landed read back first.

Two ways an item is left not knowing whether its write landed: the answer was lost and the
read-back failed too (the item is retried later), or the process died between the call and
recording its result (the item stays marked in flight). Either way the next drain reads the
records back and writes only those that do not hold the values yet.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select, update

from connectors.zendesk_records import OrgUpdate
from model.db import transaction
from model.tables import OutboxItem
from sync import push
from sync.routes import writer_routes
from tests.sync.conftest import live_tickets

LATER = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)  # every retry's backoff has passed


def _queue(factory, kind: str, targets: list[int], payload: dict[str, Any]) -> None:
    with transaction(factory) as s:
        s.add_all(
            OutboxItem(
                key=f"{kind}:{t}",
                system="zendesk",
                kind=kind,
                target_id=str(t),
                payload=payload,
            )
            for t in targets
        )


def _puts(sb, path_end: str) -> list[dict[str, Any]]:
    return [r for r in sb.requests if r["method"] == "PUT" and r["path"].endswith(path_end)]


def _statuses(factory) -> list[str]:
    with transaction(factory) as s:
        return sorted(s.execute(select(OutboxItem.status)).scalars())


def test_an_org_write_left_unknown_is_read_back_by_the_next_drain(factory, sb, zd) -> None:
    orgs = sorted(sb.world.orgs)[:3]
    _queue(factory, "helpdesk_org_fields", orgs, {"fields": {"health_band": "red"}})
    route = {"helpdesk_org_fields": writer_routes([zd.writer])["helpdesk_org_fields"]}
    sb.faults.add(r"/organizations/update_many\.json", "lost_response", method="PUT")
    sb.faults.add(r"/organizations/show_many\.json", 500, times=2, method="GET")
    first = push.drain(factory, route)
    assert (first.done, first.retrying) == (0, 3), "applied, but nothing could confirm it"
    second = push.drain(factory, route, now=LATER)
    assert second.done == 3 and _statuses(factory) == ["done"] * 3
    assert len(_puts(sb, "organizations/update_many.json")) == 1, "never written twice"


def test_a_replay_after_a_crash_mid_push_writes_only_what_did_not_land(factory, sb, zd) -> None:
    """The state a process killed after the call leaves: the items marked in flight, the
    write applied for some of them."""
    orgs = sorted(sb.world.orgs)[:4]
    _queue(factory, "helpdesk_org_fields", orgs, {"fields": {"health_band": "yellow"}})
    fields = {"health_status": "yellow"}  # the organization field health_band is written to
    assert all(
        r.ok for r in zd.update_organizations([OrgUpdate(id=o, fields=fields) for o in orgs[:3]])
    )
    with transaction(factory) as s:
        s.execute(update(OutboxItem).values(last_error=push.IN_FLIGHT))
    sb.clear_log()
    stats = push.drain(
        factory, {"helpdesk_org_fields": writer_routes([zd.writer])["helpdesk_org_fields"]}
    )
    assert stats.done == 4
    [put] = _puts(sb, "organizations/update_many.json")
    assert [o["id"] for o in put["body"]["organizations"]] == [orgs[3]]


def test_field_routes_mark_their_items_in_flight_before_the_call(factory, sb, zd) -> None:
    orgs = sorted(sb.world.orgs)[:2]
    _queue(factory, "helpdesk_org_fields", orgs, {"fields": {"health_band": "green"}})
    seen: list[str | None] = []
    route = writer_routes([zd.writer])["helpdesk_org_fields"]

    def watching(items):  # type: ignore[no-untyped-def]
        with transaction(factory) as s:
            seen.extend(s.execute(select(OutboxItem.last_error)).scalars())
        return route.pusher(items)

    push.drain(factory, {"helpdesk_org_fields": push.Route(watching, 100, mark_in_flight=True)})
    assert seen == [push.IN_FLIGHT] * 2 and route.mark_in_flight
    assert _statuses(factory) == ["done", "done"]


def test_a_tag_job_left_unknown_is_read_back_not_resent(factory, sb, zd) -> None:
    tickets = live_tickets(sb, 3)
    _queue(factory, "helpdesk_ticket_tags", tickets, {"add": ["health_red"], "remove": []})
    route = {"helpdesk_ticket_tags": writer_routes([zd.writer])["helpdesk_ticket_tags"]}
    sb.faults.add(r"/tickets/update_many\.json", "lost_response", method="PUT")
    sb.faults.add(r"/tickets/show_many\.json", 500, times=2, method="GET")
    assert push.drain(factory, route).retrying == 3
    assert push.drain(factory, route, now=LATER).done == 3
    assert len(_puts(sb, "tickets/update_many.json")) == 1
