"""Which onboarding phase an account is in, from its facts (pure: no session, no I/O).

Facts are one flat mapping per account: the latest snapshot's signals (plus `health_score`)
and the account's fields (`lifecycle_stage`, `segment`, `go_live_date`, ...). An account is in
the first phase whose exit it has not met; every later phase waits for the earlier ones.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from csops.config import Criterion, OnboardingConfig, Phase


def met(c: Criterion, facts: Mapping[str, Any]) -> bool:
    """Whether one criterion holds; a missing fact never meets a comparison."""
    value = facts.get(c.signal or c.field or "")
    if c.op == "present":
        return value not in (None, "", [], {})
    if value is None:
        return False
    if c.op == "in":
        return value in c.value
    if c.op == "==":
        return bool(value == c.value)
    try:
        a, b = float(value), float(c.value)
    except (TypeError, ValueError):
        return False
    return {">=": a >= b, "<=": a <= b, ">": a > b, "<": a < b}[c.op]


def exited(phase: Phase, facts: Mapping[str, Any]) -> bool:
    results = [met(c, facts) for c in phase.exit]
    return bool(results) and (any(results) if phase.exit_when == "any" else all(results))


def current_phase(config: OnboardingConfig, facts: Mapping[str, Any]) -> int:
    """The index of the account's phase: the first whose exit is not met (the last otherwise)."""
    for i, phase in enumerate(config.phases[:-1]):
        if not exited(phase, facts):
            return i
    return len(config.phases) - 1


def as_date(value: Any) -> dt.date | None:
    """A date fact as the CRM sends it (a date, or ISO text); anything else is unknown."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and value:
        try:
            return dt.date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


def first_seen_entry(
    position: int,
    facts: Mapping[str, Any],
    today: dt.date,
    first_usage: dt.date | None,
    backdate_days: int = 365,
) -> dt.date:
    """When a phase first seen today most likely began: the contract start for the first
    phase, go-live (else the first usage data) for the second; later phases, or a start more
    than `backdate_days` ago (a long-standing account, not an onboarding one): today."""
    if position == 0:
        start = as_date(facts.get("customer_since"))
    elif position == 1:
        start = as_date(facts.get("go_live_date")) or first_usage
    else:
        start = None
    if start is None or (today - start).days > backdate_days:
        return today
    return min(start, today)


@dataclass(frozen=True)
class Stall:
    """A phase older than its target."""

    phase: str
    entered_on: dt.date
    days: int
    target_days: int


def stalled(phase: Phase, entered_on: dt.date, today: dt.date) -> Stall | None:
    days = (today - entered_on).days
    if phase.target_days is None or days <= phase.target_days:
        return None
    return Stall(phase.name, entered_on, days, phase.target_days)
