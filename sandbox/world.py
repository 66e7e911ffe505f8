"""The in-memory synthetic world every simulator reads and writes, and its clock.

How the world is generated (latent drivers, noisy renewal decisions, hard cases, season,
support friction) is documented in `sandbox.gen_fate`; `World.truth["drivers"]` keeps each
account's hidden drivers for tests and audits, never for the scorecard.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from sandbox.formats import to_epoch
from sandbox.tickets import Subjects, TicketTable
from sandbox.trajectory import Trajectory

SF_OBJECTS = ("Account", "Opportunity", "Contact", "User", "Task")
ORG_FIELD_KEYS = ("health_score", "health_status", "renewal_risk", "renewal_risk_level")


class Clock:
    """The world's "now": an anchor that flows with wall time and jumps forward on `advance`."""

    def __init__(self, anchor: dt.datetime) -> None:
        if anchor.tzinfo is None:
            raise ValueError("Sandbox now= must be an aware datetime")
        self.anchor = anchor.astimezone(dt.UTC)
        self._started = time.monotonic()
        self._offset = dt.timedelta()

    def now(self) -> dt.datetime:
        """Current simulated time (aware UTC)."""
        return self.anchor + self._offset + dt.timedelta(seconds=time.monotonic() - self._started)

    def epoch(self) -> int:
        """Current simulated time in epoch seconds."""
        return to_epoch(self.now())

    def today(self) -> dt.date:
        """Current simulated date (UTC)."""
        return self.now().date()

    def jump(self, days: float) -> None:
        """Move time forward."""
        self._offset += dt.timedelta(days=days)


@dataclass
class Workspace:
    """A usage-API workspace; its daily rows are computed on demand from the trajectory."""

    id: str
    name: str
    domain: str
    salesforce_account_id: str | None
    account_id: str
    seats: int
    activity: float
    created_at: int
    updated_at: int
    number: int
    habit: float = 1.0  # logins per active user vary by company culture, not only by health
    breadth: float = 7.0  # how many features this customer's use case needs at full health


@dataclass
class World:
    """Everything the three simulators serve; guarded by `lock` for writes."""

    seed: int
    clock: Clock
    usage_days: int
    sf: dict[str, dict[str, dict[str, Any]]] = field(
        default_factory=lambda: {name: {} for name in SF_OBJECTS}
    )
    sf_deleted: dict[str, dict[str, dt.datetime]] = field(
        default_factory=lambda: {name: {} for name in SF_OBJECTS}
    )
    orgs: dict[int, dict[str, Any]] = field(default_factory=dict)
    zd_users: dict[int, dict[str, Any]] = field(default_factory=dict)
    groups: list[dict[str, Any]] = field(default_factory=list)
    tickets: TicketTable = field(default_factory=TicketTable)
    workspaces: list[Workspace] = field(default_factory=list)
    # late-arriving usage: (workspace id, day ordinal) -> (epoch revised, extra logins)
    usage_revisions: dict[tuple[str, int], tuple[int, int]] = field(default_factory=dict)
    trajectories: dict[str, Trajectory] = field(default_factory=dict)
    surveys: list[dict[str, Any]] = field(default_factory=list)  # by id (see sandbox.gen_surveys)
    account_orgs: dict[str, int] = field(default_factory=dict)
    org_requesters: dict[int, list[int]] = field(default_factory=dict)
    agents: list[int] = field(default_factory=list)
    truth: dict[str, Any] = field(default_factory=dict)
    subjects: Subjects | None = None  # helpdesk-like subjects instead of the templates
    counters: dict[str, int] = field(default_factory=dict)
    lock: threading.RLock = field(default_factory=threading.RLock)

    def next_number(self, kind: str, start: int) -> int:
        """Next serial number for a newly created record of `kind`."""
        value = self.counters.get(kind, start)
        self.counters[kind] = value + 1
        return value

    @property
    def accounts(self) -> list[dict[str, Any]]:
        """Salesforce account records (including any in the recycle bin)."""
        return list(self.sf["Account"].values())

    @property
    def opportunities(self) -> list[dict[str, Any]]:
        """Salesforce opportunity records."""
        return list(self.sf["Opportunity"].values())

    @property
    def contacts(self) -> list[dict[str, Any]]:
        """Salesforce contact records."""
        return list(self.sf["Contact"].values())

    @property
    def users(self) -> list[dict[str, Any]]:
        """Salesforce user records (account owners)."""
        return list(self.sf["User"].values())

    @property
    def usage(self) -> list[Workspace]:
        """Usage-API workspaces (daily rows are computed on demand by `sandbox.usage`)."""
        return self.workspaces

    def account_ids(self) -> list[str]:
        """All Salesforce account ids in generation order."""
        return list(self.sf["Account"])

    def counts(self) -> dict[str, int]:
        """Record counts per collection."""
        out = {f"salesforce.{k}": len(v) for k, v in self.sf.items()}
        out.update(
            {
                "zendesk.organizations": len(self.orgs),
                "zendesk.users": len(self.zd_users),
                "zendesk.tickets": len(self.tickets),
                "usage.workspaces": len(self.workspaces),
                "usage.surveys": len(self.surveys),
            }
        )
        return out
