"""A small sandbox and a Zendesk connector on it, for the push tests (tags, comments), and a
sandbox runtime on SQLite and on PostgreSQL for whole-job tests."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest

from connectors.http import RetryPolicy
from connectors.zendesk import ZendeskConnector
from sandbox import Sandbox
from sandbox.tickets import DELETED
from sync.writeback import allowed_ticket_tags
from tests.connectors.conftest import sandbox_zenpy
from tests.sandbox_runtime import sandbox_runtime

NO_WAIT = RetryPolicy(max_attempts=2, initial_wait=0, max_wait=0, sleep=lambda _: None)


@pytest.fixture(params=["sqlite", "postgres"])
def rt(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[Any]:
    """A 25-account sandbox (seed 3) and a runtime on it, once on each database."""
    url = (
        request.getfixturevalue("pg_url")
        if request.param == "postgres"
        else f"sqlite:///{tmp_path / 'runtime.db'}"
    )
    with sandbox_runtime(url, accounts=25, seed=3) as runtime:
        yield runtime


@pytest.fixture
def sb() -> Iterator[Sandbox]:
    with Sandbox(accounts=12, seed=5) as box:
        yield box


def sandbox_zendesk(
    sb: Sandbox, monkeypatch: pytest.MonkeyPatch, policy: RetryPolicy = NO_WAIT
) -> ZendeskConnector:
    """Production wiring on the sandbox: the write-back tag allow-list enforced, no waiting
    between retries."""
    return ZendeskConnector(
        sandbox_zenpy(sb.base_url, monkeypatch),
        policy=policy,
        allowed_tags=sorted(allowed_ticket_tags()),
    )


@pytest.fixture
def zd(sb: Sandbox, monkeypatch: pytest.MonkeyPatch) -> ZendeskConnector:
    return sandbox_zendesk(sb, monkeypatch)


def live_tickets(sb: Sandbox, n: int) -> list[int]:
    """The ids of the sandbox's first `n` tickets that are not deleted."""
    t = sb.world.tickets
    return [p + 1 for p in range(len(t)) if t.status[p] != DELETED][:n]


@pytest.fixture
def webhook_receiver() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A webhook receiver on loopback that keeps what it is posted."""
    got: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            got.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hook", got
    server.shutdown()
    server.server_close()
