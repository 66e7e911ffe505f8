"""A person's triage of an escalation: snooze it out of the inbox until a day (pure).

Snoozing changes nothing the rules decide: the escalation stays open, its ticket and task
stand, and a worse decision still updates it. It only leaves the inbox's default view until
`snoozed_until`, recorded in the current episode with who snoozed it.
"""

from __future__ import annotations

from datetime import datetime

from model.tables import Escalation

ACTIVE = ("open", "acknowledged")


def snoozed_until(esc: Escalation) -> datetime | None:
    raw = (esc.details or {}).get("snoozed_until")
    return datetime.fromisoformat(raw) if isinstance(raw, str) else None


def is_snoozed(esc: Escalation, now: datetime) -> bool:
    until = snoozed_until(esc)
    return until is not None and now < until


def snooze(esc: Escalation, until: datetime, now: datetime, by: str | None = None) -> bool:
    """Hide an active escalation from the inbox until `until`; False if it is not active."""
    if esc.state not in ACTIVE or until <= now:
        return False
    details = dict(esc.details or {})
    details["snoozed_until"] = until.isoformat()
    episodes = [dict(e) for e in details.get("episodes", [])]
    if episodes:
        episodes[-1]["snoozed"] = [
            *episodes[-1].get("snoozed", []),
            {"at": now.isoformat(), "until": until.isoformat(), "by": by},
        ]
    details["episodes"] = episodes
    esc.details = details
    esc.updated_at = now
    return True
