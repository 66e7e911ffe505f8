"""The real zenpy client against the Zendesk simulator."""

from __future__ import annotations

import datetime as dt

import pytest
from zenpy.lib.api_objects import Ticket

from sandbox import Sandbox
from tests.sandbox.conftest import zenpy_client


def test_incremental_tickets_cursor_pages_to_end_of_stream(
    sb: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    zd = zenpy_client(sb, monkeypatch)
    sb.clear_log()
    seen = {t.id: t for t in zd.tickets.incremental(start_time=0)}
    t = sb.world.tickets
    cutoff = sb.world.clock.epoch() - 60
    expected = {p + 1 for p in range(len(t)) if t.updated[p] < cutoff}
    assert set(seen) == expected and len(expected) > 1000
    pages = [r for r in sb.requests if r["path"] == "/api/v2/incremental/tickets/cursor.json"]
    assert len(pages) == -(-len(expected) // 1000)
    statuses = {x.status for x in seen.values()}
    assert {"deleted", "closed", "open"} <= statuses


def test_incremental_organizations_time_based(sb: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    zd = zenpy_client(sb, monkeypatch)
    start = dt.datetime(2015, 1, 1, tzinfo=dt.UTC)
    orgs = list(zd.organizations.incremental(start_time=start))
    assert {o.id for o in orgs} == set(sb.world.orgs)
    linked = [o for o in orgs if o.external_id]
    assert linked and all(o.external_id in sb.world.sf["Account"] for o in linked)


def test_tags_and_update_many_job(fresh: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    zd = zenpy_client(fresh, monkeypatch)
    tags = zd.tickets.add_tags(1, ["health_red"])
    assert "health_red" in tags
    assert {
        "system": "zendesk",
        "kind": "ticket_tags_added",
        "target_id": "1",
        "changes": {"tags": ["health_red"]},
    } in fresh.writes
    zd.tickets.delete_tags(1, ["health_red"])
    assert "health_red" not in fresh.world.tickets.tag_list(0)
    job = zd.tickets.update([Ticket(id=2, priority="urgent"), Ticket(id=3, priority="low")])
    assert job.status == "queued"
    done = zd.job_status(id=job.id)
    while done.status != "completed":
        done = zd.job_status(id=job.id)
    assert [r.id for r in done.results] == [2, 3]
    assert fresh.world.tickets.priority[1] == 4
