"""One escalation row: its opening details, its fingerprint, its idempotent insert, and the
per-episode record its lifecycle events are written to (see escalation/lifecycle.py)."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from escalation.decisions import Decision
from model.tables import Escalation

log = logging.getLogger(__name__)


def opening_details(d: Decision, now: datetime) -> dict[str, Any]:
    """The details JSON of a first episode: the decision's evidence and its episode record."""
    return {
        "reason": d.reason,
        "account": d.account.model_dump(mode="json"),
        "assessment": d.assessment.model_dump(mode="json"),
        "evidence": d.evidence,
        "ticket_ids": list(d.ticket_ids),
        "fingerprint": fingerprint(d),
        "episode": 1,
        "updates": 0,
        "episodes": [{"episode": 1, "opened_at": now.isoformat(), "severity": d.severity}],
    }


def fingerprint(d: Decision) -> str:
    """What makes an update worth a comment: severity and the linked tickets."""
    return f"{d.severity}|{','.join(str(i) for i in sorted(d.ticket_ids))}"


def insert_escalation(session: Session, d: Decision, now: datetime) -> tuple[Escalation, bool]:
    """Create the row unless a concurrent run already did; returns (row, created)."""
    values = {
        "dedup_key": d.dedup_key,
        "account_id": d.account_id,
        "rule": d.rule,
        "severity": d.severity,
        "state": "open",
        "title": d.title[:500],
        "details": opening_details(d, now),
        "opened_at": now,
        "updated_at": now,
    }
    dialect = session.get_bind().dialect.name
    module: Any = postgresql if dialect == "postgresql" else sqlite
    stmt = (
        module.insert(Escalation)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["dedup_key"])
        .returning(Escalation.id)
    )
    created = session.execute(stmt).first() is not None
    esc = session.scalars(
        select(Escalation)
        .where(Escalation.dedup_key == d.dedup_key)
        .execution_options(populate_existing=True)
    ).one()
    if not created:
        log.info("escalation %s was opened by a concurrent run", d.dedup_key)
    return esc, created


def record_event(esc: Escalation, now: datetime, **changes: Any) -> None:
    """Apply `changes` to the current episode's record (details JSON is replaced, not mutated)."""
    details = dict(esc.details or {})
    episodes = [dict(e) for e in details.get("episodes", [])]
    if episodes:
        episodes[-1].update(
            {k: v.isoformat() if isinstance(v, datetime) else v for k, v in changes.items()}
        )
    details["episodes"] = episodes
    esc.details = details
    esc.updated_at = now


def describe_changes(esc: Escalation, details: dict[str, Any], d: Decision) -> list[str]:
    """What an update changed, worded for the comment on the escalation's ticket."""
    changes = []
    if d.severity != esc.severity:
        changes.append(f"severity {esc.severity.upper()} -> {d.severity.upper()}")
    before = set(details.get("ticket_ids", []))
    added = [i for i in d.ticket_ids if i not in before]
    if added:
        changes.append("new linked tickets: " + ", ".join(f"#{i}" for i in added))
    gone = sorted(before - set(d.ticket_ids))
    if gone:
        changes.append("no longer linked: " + ", ".join(f"#{i}" for i in gone))
    return changes or ["evidence refreshed"]
