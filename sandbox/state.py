"""Mutable server state shared by every route: world, logs, faults, limits, sessions, jobs."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterable
from typing import Any

from sandbox.faults import Faults
from sandbox.hubspot_store import HubSpotState
from sandbox.limits import Limits
from sandbox.world import World

MAX_LOGGED = 200_000  # request log entries kept (oldest dropped) so a long demo stays bounded
MAX_QUERY_CURSORS = 10  # Salesforce keeps at most 10 open query cursors per user


WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# POSTs that only read: HubSpot searches and batch reads, Salesforce Composite (its
# subrequests are queries here: sandbox/sf_composite.py)
READ_ONLY_POSTS = ("/search", "/batch/read", "/composite")


def api_writes(requests: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The logged requests that asked a simulated API to change something."""
    return [
        r
        for r in requests
        if r["system"] != "control"
        and r["method"] in WRITE_METHODS
        and not r["path"].rstrip("/").endswith(READ_ONLY_POSTS)
    ]


class State:
    """What the handlers read and write; `requests` and `writes` are the control API's logs."""

    def __init__(self, world: World, limits: Limits | None = None) -> None:
        self.world = world
        self.faults = Faults(world.seed)
        self.limits = limits or Limits()
        self.requests: list[dict[str, Any]] = []
        self.writes: list[dict[str, Any]] = []
        self.sf_sessions: set[str] = set()
        self.hubspot = HubSpotState()  # what only the HubSpot simulator holds
        self.sf_refresh_tokens: set[str] = set()
        self.zd_jobs: dict[str, dict[str, Any]] = {}
        self.zd_audits: dict[int, list[dict[str, Any]]] = {}  # ticket position -> API audits
        self.zd_api_created: set[int] = set()  # tickets whose creation audit is stored
        self.zd_audit_serial = 0
        self.idempotency: dict[str, tuple[str, int, bytes, int]] = {}
        self.query_cursors: dict[str, tuple[Any, list[str], int]] = {}
        self.bulk_jobs: dict[str, dict[str, Any]] = {}
        self.cursor_serial = 0
        self.derived: dict[str, tuple[int, Any]] = {}  # caches keyed by a data version
        self.timeout_seconds = 30.0
        self.export_lag = 60  # Zendesk exports leave out the last minute
        self._seq = 0
        self._lock = threading.Lock()

    def log_request(self, entry: dict[str, Any]) -> None:
        """Append to the request log with a sequence number."""
        with self._lock:
            self._seq += 1
            entry["seq"] = self._seq
            entry["ts"] = time.time()
            self.requests.append(entry)
            if len(self.requests) > MAX_LOGGED:
                del self.requests[: len(self.requests) - MAX_LOGGED]

    def record_write(self, system: str, kind: str, target_id: str, changes: dict[str, Any]) -> None:
        """Append to the write log (what a write actually changed)."""
        with self._lock:
            self.writes.append(
                {"system": system, "kind": kind, "target_id": target_id, "changes": changes}
            )

    def clear_log(self) -> None:
        """Forget logged requests and writes."""
        with self._lock:
            self.requests.clear()
            self.writes.clear()

    def counts(self) -> dict[str, int]:
        """Requests per "METHOD path-pattern" (numeric ids folded to {id})."""
        out: dict[str, int] = {}
        with self._lock:
            for r in self.requests:
                key = f"{r['method']} " + re.sub(
                    r"/(\d+|[0-9A-Za-z]{18}|V3-[0-9a-f]+)(?=/|\.json|$)", "/{id}", r["path"]
                )
                out[key] = out.get(key, 0) + 1
        return out
