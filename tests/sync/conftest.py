"""A small sandbox and a Zendesk connector on it, for the push tests (tags, comments)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from connectors.http import RetryPolicy
from connectors.zendesk import ZendeskConnector
from sandbox import Sandbox
from sandbox.tickets import DELETED
from sync.writeback import allowed_ticket_tags
from tests.connectors.conftest import sandbox_zenpy

NO_WAIT = RetryPolicy(max_attempts=2, initial_wait=0, max_wait=0, sleep=lambda _: None)


@pytest.fixture
def sb() -> Iterator[Sandbox]:
    with Sandbox(accounts=12, seed=5) as box:
        yield box


@pytest.fixture
def zd(sb: Sandbox, monkeypatch: pytest.MonkeyPatch) -> ZendeskConnector:
    """Production wiring: the write-back tag allow-list enforced, no waiting between retries."""
    return ZendeskConnector(
        sandbox_zenpy(sb.base_url, monkeypatch),
        policy=NO_WAIT,
        allowed_tags=sorted(allowed_ticket_tags()),
    )


def live_tickets(sb: Sandbox, n: int) -> list[int]:
    """The ids of the sandbox's first `n` tickets that are not deleted."""
    t = sb.world.tickets
    return [p + 1 for p in range(len(t)) if t.status[p] != DELETED][:n]
