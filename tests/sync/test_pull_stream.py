"""pull_stream with the Zendesk connector reading ahead: pages and cursors committed in order."""

from __future__ import annotations

import gc

import pytest
from sqlalchemy import select

from connectors.errors import Fatal
from connectors.http import RetryPolicy
from connectors.zendesk import ZendeskConnector
from model.db import transaction
from model.tables import SyncCursor, Ticket
from sync.heap import long_lived_frozen
from sync.pull import pull_stream
from tests.connectors.conftest import fake_zenpy
from tests.connectors.test_zendesk import BASE, Routes, ticket

NO_WAIT = RetryPolicy(max_attempts=2, initial_wait=0.0, max_wait=0.0, sleep=lambda _: None)


def _page(n: int, last: bool = False) -> tuple[int, dict, dict]:
    after = None if last else f"{BASE}/incremental/tickets/cursor.json?cursor=C{n}"
    body = {"tickets": [ticket(n)], "after_url": after, "after_cursor": f"C{n}",
            "end_of_stream": last}  # fmt: skip
    return 200, body, {}


def test_a_failing_page_keeps_every_page_and_cursor_before_it(factory) -> None:
    routes = Routes()
    routes.add(
        "GET",
        "incremental/tickets/cursor.json",
        _page(1),
        _page(2),
        (400, {"error": "InvalidPaginationParameter", "description": "bad cursor"}, {}),
    )
    zd = ZendeskConnector(fake_zenpy(routes)[0], policy=NO_WAIT)
    with pytest.raises(Fatal):
        pull_stream(factory, zd, "tickets")
    with transaction(factory) as session:
        assert sorted(session.scalars(select(Ticket.helpdesk_id))) == [1, 2]
        cursor = session.get(SyncCursor, "zendesk.tickets")
        assert cursor is not None and cursor.value == "C2"
    assert gc.get_freeze_count() == 0, "the heap is handed back to the collector"


def test_a_resumed_pull_starts_after_the_last_committed_page(factory) -> None:
    routes = Routes()
    routes.add("GET", "incremental/tickets/cursor.json", _page(1), _page(2, last=True))
    zd = ZendeskConnector(fake_zenpy(routes)[0], policy=NO_WAIT)
    assert pull_stream(factory, zd, "tickets") == (2, 0)
    routes.add("GET", "incremental/tickets/cursor.json", _page(3, last=True))
    assert pull_stream(factory, zd, "tickets") == (1, 0)
    assert routes.params(2)["cursor"] == ["C2"]


def test_long_lived_frozen_nests_and_unfreezes_at_the_outermost_exit() -> None:
    with long_lived_frozen():
        with long_lived_frozen():
            assert gc.get_freeze_count() > 0
        assert gc.get_freeze_count() > 0, "still inside the outer block"
    assert gc.get_freeze_count() == 0
