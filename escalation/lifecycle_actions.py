"""The actions each lifecycle step emits, per the rule's configured action kinds (pure)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from escalation import playbooks
from escalation.actions import (
    Action,
    CommentOnTicket,
    CreateEngineeringTicket,
    CreateOwnerTask,
    Notify,
    TagCustomerTickets,
    action_key,
    external_id,
)
from escalation.config import EscalationConfig
from escalation.decisions import Decision
from escalation.severity import severity_rank
from model.tables import Escalation

INCIDENT_RULES = frozenset({"urgent_sla_breach"})


def _episode(esc: Escalation) -> int:
    return int((esc.details or {}).get("episode", 1))


def _tag_tickets(esc: Escalation, step: str, **change: list[str]) -> TagCustomerTickets:
    """Add or remove the rule's tags on the account's open customer tickets."""
    key = action_key(esc.dedup_key, _episode(esc), step)
    return TagCustomerTickets(key=key, escalation_id=esc.id, account_id=esc.account_id, **change)


def _notify_wanted(config: EscalationConfig, rule: str, severity: str) -> bool:
    return (
        "notify" in config.rule(rule).actions
        and config.notify.url is not None
        and severity_rank(severity) <= severity_rank(config.notify.min_severity)
    )


def open_actions(
    esc: Escalation,
    d: Decision,
    config: EscalationConfig,
    now: datetime,
    crm_title: str = playbooks.DEFAULT_CRM_TITLE,
) -> list[Action]:
    """Ticket, owner task, tags and notification for a newly opened episode (`crm_title`: the
    crm's name in the ticket's body)."""
    rule = config.rule(d.rule)
    key, ep = esc.dedup_key, _episode(esc)
    actions: list[Action] = []
    if "engineering_ticket" in rule.actions:
        ticket = config.engineering_ticket
        actions.append(
            CreateEngineeringTicket(
                key=action_key(key, ep, "ticket"),
                escalation_id=esc.id,
                account_id=d.account_id,
                subject=playbooks.ticket_subject(d),
                body=playbooks.ticket_body(d, crm_title),
                tags=[*ticket.tags, d.severity, f"pulsehub_rule_{d.rule}"],
                priority=ticket.priority[d.severity],
                type="incident" if d.rule in INCIDENT_RULES else "problem",
                group_id=ticket.group_id,
                ticket_form_id=ticket.ticket_form_id,
                external_id=external_id(key, ep),
                linked_ticket_ids=list(d.ticket_ids),
            )
        )
    if "owner_task" in rule.actions:
        actions.append(_task(esc, d, config, now, step="task"))
    if "tag_tickets" in rule.actions and rule.tags:
        actions.append(_tag_tickets(esc, "tags-add", add=list(rule.tags)))
    if _notify_wanted(config, d.rule, d.severity):
        actions.append(_notify(esc, config, "opened", playbooks.notify_payload(d, "opened")))
    return actions


def update_actions(
    esc: Escalation,
    d: Decision,
    config: EscalationConfig,
    changes: list[str],
    update_no: int,
    now: datetime,
) -> list[Action]:
    """A comment on the engineering ticket; a fresh owner task if severity rose without one."""
    rule = config.rule(d.rule)
    key, ep = esc.dedup_key, _episode(esc)
    actions: list[Action] = []
    rose = severity_rank(d.severity) < severity_rank(esc.severity)
    if "engineering_ticket" in rule.actions:
        actions.append(
            CommentOnTicket(
                key=action_key(key, ep, f"update-{update_no}"),
                escalation_id=esc.id,
                helpdesk_ticket_id=esc.helpdesk_ticket_id,
                body=playbooks.update_comment(d, changes),
            )
        )
    elif rose and "owner_task" in rule.actions:
        actions.append(_task(esc, d, config, now, step=f"task-{d.severity}"))
    if rose and _notify_wanted(config, d.rule, d.severity):
        payload = playbooks.notify_payload(d, f"escalated to {d.severity.upper()}")
        actions.append(_notify(esc, config, f"escalated-{d.severity}", payload))
    return actions


def clear_actions(
    esc: Escalation,
    config: EscalationConfig,
    now: datetime,
    *,
    resolve: bool,
    note: str | None = None,
) -> list[Action]:
    """Resolution note (or a request to confirm), tag removal and the post-incident review."""
    rule = config.rule(esc.rule)
    key, ep = esc.dedup_key, _episode(esc)
    if note is None:
        note = (playbooks.resolution_note if resolve else playbooks.ask_note)(esc.rule, esc.title)
    step = "resolved" if resolve else "ask"
    actions: list[Action] = []
    if "engineering_ticket" in rule.actions:
        actions.append(
            CommentOnTicket(
                key=action_key(key, ep, step),
                escalation_id=esc.id,
                helpdesk_ticket_id=esc.helpdesk_ticket_id,
                body=note,
                status="solved" if resolve else None,
            )
        )
    elif not resolve and "owner_task" in rule.actions:
        actions.append(
            _owner_task(esc, config, now, step, f"Confirm resolution: {esc.title}", note)
        )
    if not resolve:
        return actions
    if "tag_tickets" in rule.actions and rule.tags:
        actions.append(_tag_tickets(esc, "tags-remove", remove=list(rule.tags)))
    if esc.severity in config.lifecycle.review_severities:
        due = now + timedelta(hours=config.lifecycle.review_hours)
        actions.append(
            _owner_task(
                esc,
                config,
                now,
                "review",
                f"Post-incident review: {esc.title}",
                f"{note}\n\nReview what happened and what to change, due by {due:%Y-%m-%d %H:%M} UTC.",
                due=due,
            )
        )
    if _notify_wanted(config, esc.rule, esc.severity):
        payload = {
            "text": f"resolved: [{esc.severity.upper()}] {esc.title}",
            "event": "resolved",
            "account_id": esc.account_id,
            "rule": esc.rule,
            "dedup_key": key,
        }
        actions.append(_notify(esc, config, "resolved", payload))
    return actions


def _task(
    esc: Escalation, d: Decision, config: EscalationConfig, now: datetime, step: str
) -> CreateOwnerTask:
    return CreateOwnerTask(
        key=action_key(esc.dedup_key, _episode(esc), step),
        escalation_id=esc.id,
        account_id=d.account_id,
        account_crm_id=d.account.crm_id,
        owner_crm_id=d.account.owner_crm_id,
        subject=playbooks.task_subject(d),
        description=playbooks.task_description(d, config),
        due_date=(now + timedelta(days=config.owner_task.due_days[d.severity])).date(),
        priority=config.owner_task.priority[d.severity],
    )


def _owner_task(
    esc: Escalation,
    config: EscalationConfig,
    now: datetime,
    step: str,
    subject: str,
    description: str,
    due: datetime | None = None,
) -> CreateOwnerTask:
    sev = esc.severity if esc.severity in config.owner_task.due_days else "sev4"
    details = esc.details or {}
    account = details.get("account", {})
    return CreateOwnerTask(
        key=action_key(esc.dedup_key, _episode(esc), step),
        escalation_id=esc.id,
        account_id=esc.account_id,
        account_crm_id=account.get("crm_id"),
        owner_crm_id=account.get("owner_crm_id"),
        subject=subject[:255],
        description=description,
        due_date=(due or now + timedelta(days=config.owner_task.due_days[sev])).date(),  # type: ignore[index]
        priority=config.owner_task.priority[sev],  # type: ignore[index]
    )


def _notify(
    esc: Escalation, config: EscalationConfig, step: str, payload: dict[str, Any]
) -> Notify:
    return Notify(
        key=action_key(esc.dedup_key, _episode(esc), f"notify-{step}"),
        escalation_id=esc.id,
        url=config.notify.url or "",
        payload=payload,
    )
