"""Text of escalation tickets, owner tasks, comments and notifications (pure rendering)."""

from __future__ import annotations

from typing import Any

from escalation.config import EscalationConfig
from escalation.decisions import Decision

RENEWAL_RULES = frozenset({"renewal_review"})
CRITICAL_SEVERITIES = frozenset({"sev1", "sev2"})
DEFAULT_CRM_TITLE = "CRM"  # when the caller names no crm (a replay writes no ticket)


def playbook_name(decision: Decision) -> str:
    """renewal_review for renewals, critical for red or Sev1/Sev2, at_risk otherwise."""
    if decision.rule in RENEWAL_RULES:
        return "renewal_review"
    if decision.evidence.get("band") == "red" or decision.severity in CRITICAL_SEVERITIES:
        return "critical"
    return "at_risk"


def ticket_subject(decision: Decision) -> str:
    return f"[{decision.severity.upper()}] {decision.title}"[:250]


def severity_table(decision: Decision) -> str:
    a = decision.assessment
    lines = [f"Severity {decision.severity.upper()} ({a.points} points):", ""]
    lines.append(f"{'factor':<26}{'value':<22}{'points':>7}  table")
    for row in a.rows:
        lines.append(f"{row.factor:<26}{row.value:<22}{row.points:>7}  {row.rule}")
    return "\n".join(lines)


def evidence_lines(decision: Decision) -> list[str]:
    lines = []
    for key, value in decision.evidence.items():
        if value in (None, [], {}, ""):
            continue
        if isinstance(value, list):
            lines.append(f"- {key}:")
            lines.extend(f"    - {_fmt(v)}" for v in value)
        else:
            lines.append(f"- {key}: {_fmt(value)}")
    return lines


def ticket_body(decision: Decision, crm_title: str = DEFAULT_CRM_TITLE) -> str:
    """Names account (with its id in the crm, called `crm_title`), severity, evidence and the
    linked customer tickets."""
    acc = decision.account
    parts = [
        f"Account: {acc.name} (pulsehub #{acc.account_id}"
        + (f", {crm_title} {acc.crm_id}" if acc.crm_id else "")
        + ")",
        f"Owner: {acc.owner_name or 'unassigned'}",
        f"Rule: {decision.rule} — {decision.title}",
        "",
        severity_table(decision),
        "",
        "Evidence:",
        *evidence_lines(decision),
    ]
    if decision.ticket_ids:
        parts += ["", "Linked customer tickets: " + ", ".join(f"#{i}" for i in decision.ticket_ids)]
    parts += ["", f"dedup key: {decision.dedup_key}"]
    return "\n".join(parts)


def task_subject(decision: Decision) -> str:
    label = {"renewal_review": "Renewal review", "critical": "Critical account check-in"}
    name = label.get(playbook_name(decision), "At-risk check-in")
    return f"{name} [{decision.severity.upper()}]: {decision.title}"[:255]


def task_description(decision: Decision, config: EscalationConfig) -> str:
    """The playbook steps, then the risk assessment (health, drivers, open issues, ARR)."""
    steps = config.owner_task.playbooks.get(playbook_name(decision), [])
    parts = ["Playbook:"] + [f"{i}. {s}" for i, s in enumerate(steps, 1)]
    parts += ["", "Risk assessment:", *evidence_lines(decision), "", severity_table(decision)]
    return "\n".join(parts)


def update_comment(decision: Decision, changes: list[str]) -> str:
    return "pulsehub update — the condition still holds:\n" + "\n".join(f"- {c}" for c in changes)


def resolution_note(rule: str, title: str) -> str:
    return f"pulsehub: condition cleared for '{title}' ({rule}); resolved automatically."


def ask_note(rule: str, title: str) -> str:
    return (
        f"pulsehub: condition cleared for '{title}' ({rule}). "
        "Please confirm and resolve the escalation if nothing else is needed."
    )


def notify_payload(decision: Decision, event: str) -> dict[str, Any]:
    """Slack-compatible (`text`) with structured fields for other receivers."""
    text = f"{event}: [{decision.severity.upper()}] {decision.title}"
    return {
        "text": text,
        "event": event,
        "account_id": decision.account_id,
        "account": decision.account.name,
        "rule": decision.rule,
        "severity": decision.severity,
        "dedup_key": decision.dedup_key,
        "reasons": decision.assessment.reasons,
    }


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.1f}"
    if isinstance(value, dict):
        return ", ".join(f"{k}={v}" for k, v in value.items())
    return str(value)
