"""What a run did, as recorded in its SyncRun row's `stats`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from connectors.base import Connector
from sync.writeback import PlannedWrite


@dataclass
class RunReport:
    run_id: int
    dry_run: bool
    pulled: dict[str, int] = field(default_factory=dict)
    quarantined: dict[str, int] = field(default_factory=dict)
    deleted: dict[str, int] = field(default_factory=dict)
    identity: dict[str, int] = field(default_factory=dict)
    bands: dict[str, int] = field(default_factory=dict)
    escalations: dict[str, int] = field(default_factory=dict)
    operations: dict[str, int] = field(default_factory=dict)  # onboarding phases, handoffs
    voice: dict[str, int] = field(default_factory=dict)  # linked responses, themes, tasks
    reviews: dict[str, int] = field(default_factory=dict)  # renewal reviews, RCAs, access reviews
    planned: dict[str, int] = field(default_factory=dict)  # writes per kind
    plan_sample: list[PlannedWrite] = field(default_factory=list)  # the first few, for a dry run
    pushed: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)
    api_calls: dict[str, int] = field(default_factory=dict)
    quota: dict[str, Any] = field(default_factory=dict)
    steps: dict[str, dict[str, float]] = field(default_factory=dict)  # see instrument.StepClock
    incremental: dict[str, Any] = field(default_factory=dict)  # see stages.score_changed

    def stats(self) -> dict[str, Any]:
        return {
            "pulled": self.pulled,
            "quarantined": self.quarantined,
            "deleted": self.deleted,
            "identity": self.identity,
            "bands": self.bands,
            "escalations": self.escalations,
            "operations": self.operations,
            "voice": self.voice,
            "reviews": self.reviews,
            "planned": self.planned,
            "pushed": self.pushed,
            "seconds": round(self.seconds, 3),
            "errors": self.errors,
            "api_calls": self.api_calls,
            "quota": self.quota,
            "steps": self.steps,
            "incremental": self.incremental,
        }


def api_calls(connectors: Mapping[str, Connector]) -> dict[str, int]:
    """API requests each connector has made so far (they count their own calls)."""
    return {name: c.calls for name, c in connectors.items()}


def api_quota(connectors: Mapping[str, Connector]) -> dict[str, Any]:
    """Each connector's daily API quota, where its API reports one."""
    out: dict[str, Any] = {}
    for name, c in connectors.items():
        if (usage := c.api_usage()) is not None:
            out[name] = {"used": usage[0], "total": usage[1]}
    return out
