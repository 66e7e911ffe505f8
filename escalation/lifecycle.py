"""Reconcile decisions with the Escalation table: open, update, resolve, cool down, review.

One row per dedup key. A new key opens an escalation (episode 1) and emits its actions;
while the condition holds the row is updated and, when severity or linked tickets change,
a comment is emitted; when the condition clears the row is resolved (or the owner asked),
a cooldown starts, and Sev1/Sev2 get a post-incident review due `review_hours` later. A
decision for a key still cooling down is suppressed; after the cooldown it reopens as the
next episode. Rows are created with INSERT .. ON CONFLICT DO NOTHING, so two concurrent
runs end with one row, and action keys depend only on (dedup key, episode, step).

Episode history lives in `details["episodes"]` (opened/acknowledged/resolved per episode).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from escalation.actions import Action
from escalation.config import EscalationConfig
from escalation.decisions import Decision
from escalation.episodes import (
    describe_changes,
    fingerprint,
    insert_escalation,
    opening_details,
    record_event,
)
from escalation.lifecycle_actions import clear_actions, open_actions, update_actions
from escalation.playbooks import DEFAULT_CRM_TITLE
from escalation.severity import severity_rank
from model.tables import Escalation, Ticket

log = logging.getLogger(__name__)

ACTIVE = ("open", "acknowledged")


def reconcile(
    session: Session,
    decisions_by_account: dict[int, list[Decision]],
    now: datetime,
    config: EscalationConfig,
    *,
    crm_title: str = DEFAULT_CRM_TITLE,
) -> list[Action]:
    """Bring the escalations of the evaluated accounts in line with their decisions
    (`crm_title`: how a new engineering ticket's body names the crm).

    Accounts absent from `decisions_by_account` are left alone; an account present with an
    empty list has nothing firing, so its active escalations are cleared.
    """
    wanted: dict[str, Decision] = {}
    for decisions in decisions_by_account.values():
        for d in decisions:
            wanted.setdefault(d.dedup_key, d)
    existing = _load(session, decisions_by_account)
    actions: list[Action] = []
    for key in sorted(wanted):
        d = wanted[key]
        esc = existing.get(key)
        if esc is None:
            esc, created = insert_escalation(session, d, now)
            if created:
                actions += open_actions(esc, d, config, now, crm_title)
                continue
        if esc.state == "resolved":
            actions += _maybe_reopen(esc, d, config, now, crm_title)
        else:
            actions += _update(esc, d, config, now)
    for key, esc in sorted(existing.items()):
        if key not in wanted and esc.state in ACTIVE:
            actions += _clear(esc, config, now)
    session.flush()
    log.info(
        "escalations reconciled for %s accounts: %s decisions, %s actions",
        len(decisions_by_account),
        len(wanted),
        len(actions),
    )
    return actions


def _load(session: Session, by_account: dict[int, list[Decision]]) -> dict[str, Escalation]:
    ids = sorted(by_account)
    rows: dict[str, Escalation] = {}
    for start in range(0, len(ids), 500):
        query = select(Escalation).where(Escalation.account_id.in_(ids[start : start + 500]))
        for esc in session.scalars(query.with_for_update()):
            rows[esc.dedup_key] = esc
    return rows


def _update(esc: Escalation, d: Decision, config: EscalationConfig, now: datetime) -> list[Action]:
    details = dict(esc.details or {})
    actions: list[Action] = []
    if details.get("cleared_at"):
        details.pop("cleared_at")
        esc.details = details
    new_fp = fingerprint(d)
    if details.get("fingerprint") == new_fp:
        return actions
    changes = describe_changes(esc, details, d)
    details["updates"] = int(details.get("updates", 0)) + 1
    actions = update_actions(esc, d, config, changes, details["updates"], now)
    details.update(
        fingerprint=new_fp,
        assessment=d.assessment.model_dump(mode="json"),
        evidence=d.evidence,
        ticket_ids=list(d.ticket_ids),
    )
    if severity_rank(d.severity) < severity_rank(esc.severity):
        details["escalated_at"] = now.isoformat()
    esc.details = details
    esc.severity = d.severity
    esc.title = d.title[:500]
    esc.updated_at = now
    return actions


def _maybe_reopen(
    esc: Escalation, d: Decision, config: EscalationConfig, now: datetime, crm_title: str
) -> list[Action]:
    if esc.cooldown_until is not None and now < esc.cooldown_until:
        details = dict(esc.details or {})
        if not details.get("suppressed_since"):
            details["suppressed_since"] = now.isoformat()
            esc.details = details
            log.info("escalation %s cooling down until %s", esc.dedup_key, esc.cooldown_until)
        return []
    details = opening_details(d, now)
    old = dict(esc.details or {})
    episode = int(old.get("episode", 1)) + 1
    past = [dict(e) for e in old.get("episodes", [])]
    if past:
        past[-1].update(helpdesk_ticket_id=esc.helpdesk_ticket_id, crm_task_id=esc.crm_task_id)
    details["episode"] = episode
    details["episodes"] = [
        *past,
        {"episode": episode, "opened_at": now.isoformat(), "severity": d.severity},
    ]
    details["reviews"] = old.get("reviews", [])
    esc.details = details
    esc.state, esc.severity, esc.title = "open", d.severity, d.title[:500]
    esc.opened_at, esc.updated_at = now, now
    esc.acknowledged_at = esc.resolved_at = esc.cooldown_until = None
    esc.resolution_note = None
    esc.helpdesk_ticket_id = esc.crm_task_id = esc.helpdesk_source = None
    log.info("escalation %s reopened (episode %s)", esc.dedup_key, episode)
    return open_actions(esc, d, config, now, crm_title)


def _clear(esc: Escalation, config: EscalationConfig, now: datetime) -> list[Action]:
    if config.lifecycle.on_clear == "ask":
        details = dict(esc.details or {})
        if details.get("cleared_at"):
            return []
        details["cleared_at"] = now.isoformat()
        esc.details = details
        return clear_actions(esc, config, now, resolve=False)
    return resolve(esc, config, now, note=None)


def resolve(
    esc: Escalation, config: EscalationConfig, now: datetime, note: str | None
) -> list[Action]:
    """Resolve an active escalation (automatically or by hand) and start its cooldown."""
    if esc.state not in ACTIVE:
        return []
    actions = clear_actions(esc, config, now, resolve=True, note=note)
    esc.state, esc.resolved_at = "resolved", now
    esc.resolution_note = actions_note(actions) if note is None else note
    esc.cooldown_until = now + timedelta(days=config.cooldown_days(esc.rule))
    details = dict(esc.details or {})
    details.pop("cleared_at", None)
    details.pop("suppressed_since", None)
    if esc.severity in config.lifecycle.review_severities:
        esc.review_due_at = now + timedelta(hours=config.lifecycle.review_hours)
        details["reviews"] = [
            *details.get("reviews", []),
            {
                "episode": details.get("episode", 1),
                "severity": esc.severity,
                "due_at": esc.review_due_at.isoformat(),
            },
        ]
    esc.details = details
    record_event(esc, now, resolved_at=now)
    log.info("escalation %s resolved", esc.dedup_key)
    return actions


def actions_note(actions: Iterable[Action]) -> str:
    for a in actions:
        body = getattr(a, "body", None)
        if body:
            return str(body)
    return "condition cleared; resolved automatically"


def acknowledge(esc: Escalation, now: datetime, by: str | None = None) -> bool:
    """Mark an open escalation acknowledged (someone owns it); False if it was not open."""
    if esc.state != "open":
        return False
    esc.state, esc.acknowledged_at = "acknowledged", now
    record_event(esc, now, acknowledged_at=now, acknowledged_by=by)
    return True


def taken_up(*columns: Any) -> Select[Any]:
    """`columns` of the open escalations whose engineering ticket is no longer `new` (joined
    with that ticket): what `acknowledge_from_tickets` acknowledges."""
    return (
        select(*columns)
        .join(
            Ticket,
            (Ticket.helpdesk_id == Escalation.helpdesk_ticket_id)
            & (
                Escalation.helpdesk_source.is_(None) | (Ticket.source == Escalation.helpdesk_source)
            ),
        )
        .where(Escalation.state == "open", Ticket.status != "new")
    )


def acknowledge_from_tickets(
    session: Session, now: datetime, account_ids: Sequence[int] | None = None
) -> int:
    """Acknowledge open escalations whose engineering ticket someone has taken up in the helpdesk.

    pulsehub creates the ticket unassigned, so the helpdesk keeps it `new`; it leaves `new` only
    when an agent is assigned (the helpdesk's native rule makes it `open`) or sets a status
    (pending, on-hold, solved), and it never goes back. pulsehub's own comments carry no
    status, and the API does not change it for them. So a pulled engineering ticket that is no
    longer `new` means engineering owns it: acknowledged at that ticket's last update seen (an
    upper bound: the export does not say when the status moved). Returns how many."""
    stmt = taken_up(Escalation, Ticket.status, Ticket.updated_at)
    if account_ids is not None:
        stmt = stmt.where(Escalation.account_id.in_(account_ids))
    done = 0
    for esc, status, updated_at in session.execute(stmt).all():
        when = max(esc.opened_at, min(updated_at, now))
        if acknowledge(esc, when, by=f"helpdesk: ticket {esc.helpdesk_ticket_id} is {status}"):
            done += 1
            log.info("escalation %s acknowledged: its ticket is %s", esc.dedup_key, status)
    return done


def record_pushed(
    esc: Escalation,
    *,
    helpdesk_ticket_id: int | None = None,
    crm_task_id: str | None = None,
    helpdesk_source: str | None = None,
) -> None:
    """Sync calls this after a push: remember the engineering ticket (and the helpdesk
    source it was created in) / owner task created."""
    if helpdesk_ticket_id is not None:
        esc.helpdesk_ticket_id = helpdesk_ticket_id
        esc.helpdesk_source = helpdesk_source
    if crm_task_id is not None and esc.crm_task_id is None:
        esc.crm_task_id = crm_task_id
