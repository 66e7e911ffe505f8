"""`Sandbox`: the in-process fixture and demo server tying world, simulators and control together."""

from __future__ import annotations

import datetime as dt
import logging
from types import TracebackType
from typing import Any

from sandbox import (
    control,
    fd_reads,
    fd_writes,
    hubspot_api,
    hubspot_search,
    hubspot_writes,
    sf_api,
    sf_auth,
    sf_bulk,
    sf_composite,
    sf_writes,
    usage_api,
    usage_users,
    zd_audits,
    zd_comments,
    zd_export,
    zd_lists,
    zd_metric_events,
    zd_org_writes,
    zd_ratings,
    zd_show_many,
    zd_writes,
)
from sandbox.app import Dispatcher
from sandbox.changes import change_fraction
from sandbox.clock import WallClock
from sandbox.evolve import advance
from sandbox.faults import Faults
from sandbox.generate import build_world
from sandbox.httpd import HttpServer
from sandbox.limits import Limits
from sandbox.state import State
from sandbox.world import World

log = logging.getLogger(__name__)
ROUTES = (
    sf_auth.ROUTES
    + sf_api.ROUTES
    + sf_bulk.ROUTES
    + sf_composite.ROUTES
    + sf_writes.ROUTES
    + zd_export.ROUTES
    + zd_metric_events.ROUTES
    + zd_lists.ROUTES
    + zd_ratings.ROUTES
    + zd_show_many.ROUTES
    + zd_comments.ROUTES
    + zd_audits.ROUTES
    + zd_writes.ROUTES
    + zd_org_writes.ROUTES
    + usage_api.ROUTES
    + hubspot_api.ROUTES
    + hubspot_search.ROUTES
    + hubspot_writes.ROUTES
    + fd_reads.ROUTES
    + fd_writes.ROUTES
    + usage_users.ROUTES
    + control.ROUTES
)


class Sandbox:
    """Simulated Salesforce, HubSpot, Zendesk and usage APIs over a seeded synthetic world on
    loopback HTTP."""

    def __init__(
        self,
        accounts: int = 50,
        seed: int = 7,
        faults: str = "none",
        now: dt.datetime | None = None,
        port: int = 0,
        usage_days: int = 180,
        ticket_rate: float = 1.0,
        limits: Limits | str | None = None,
        world: World | None = None,
        export_lag: int = 60,
    ) -> None:
        self.world: World = world or build_world(
            accounts, seed, now, usage_days, ticket_rate=ticket_rate
        )
        if world is None and now is None:  # real time: never behind the callers' clocks
            self.world.clock = WallClock.following(self.world.clock)
        if isinstance(limits, str):
            limits = Limits.real() if limits == "real" else Limits()
        self.state = State(self.world, limits)
        self.state.export_lag = export_lag
        self.state.faults.set_profile(faults)
        self._port = port
        self._server: HttpServer | None = None

    @property
    def faults(self) -> Faults:
        return self.state.faults

    @property
    def limits(self) -> Limits:
        return self.state.limits

    @property
    def requests(self) -> list[dict[str, Any]]:
        return self.state.requests

    @property
    def writes(self) -> list[dict[str, Any]]:
        return self.state.writes

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("Sandbox is not started")
        return self._server.base_url

    def start(self) -> Sandbox:
        """Bind 127.0.0.1 (free port unless port= was given) and serve in background threads."""
        self._server = HttpServer(Dispatcher(self.state, list(ROUTES)), self._port)
        self._server.start()
        log.info("sandbox serving on %s", self._server.base_url)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

    def clear_log(self) -> None:
        self.state.clear_log()

    def advance(self, days: int = 1) -> dict[str, int]:
        """Move the world's clock forward and let it evolve."""
        return advance(self.world, days)

    def change(self, fraction: float, seed: int = 1) -> dict[str, int]:
        """Change `fraction` of every pulled kind of record now (see `sandbox.changes`)."""
        return change_fraction(self.world, fraction, seed)

    def tick(self, seconds: float) -> None:
        """Move the clock forward without evolving the world (e.g. past the exports' 1-minute lag)."""
        self.world.clock.jump(seconds / 86400.0)

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
