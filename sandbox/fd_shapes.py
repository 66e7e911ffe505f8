"""Freshdesk JSON shapes of companies, tickets (with `include=stats`), notes and ratings.

The Freshdesk simulator serves the same customer base as the Zendesk one: a company is a
`World.orgs` organization (its custom fields are the organization fields, plus the CRM
account id as the explicit link), a ticket is a `TicketTable` row. Freshdesk spells status,
priority and source as integers (API v2 reference): status 2 Open, 3 Pending, 4 Resolved,
5 Closed, 6+ custom statuses (the sandbox has 7 "Waiting on Third Party" for on-hold tickets);
priority 1 Low, 2 Medium, 3 High, 4 Urgent; source 1 Email, 2 Portal, 3 Phone, 7 Chat, 9
Feedback widget. Satisfaction ratings use the 3-point scale: 103 happy, 100 neutral, -103
unhappy, under `ratings.default_question`.

Simplified: a Zendesk "new" ticket is Open (Freshdesk has no New status); ticket types are
the Zendesk types capitalised; stats carry no reply count.
"""

from __future__ import annotations

from typing import Any

from sandbox.formats import zd_datetime
from sandbox.tickets import (
    CLOSED,
    DELETED,
    HOLD,
    NEW,
    OPEN,
    PENDING,
    SOLVED,
    TYPES,
    TicketTable,
    subject_of,
)
from sandbox.world import World
from sandbox.zd_shapes import rating_created

STATUS = {NEW: 2, OPEN: 2, PENDING: 3, HOLD: 7, SOLVED: 4, CLOSED: 5, DELETED: 5}
STATUS_BACK = {2: OPEN, 3: PENDING, 4: SOLVED, 5: CLOSED, 6: PENDING, 7: HOLD}
PRIORITY = (1, 1, 2, 3, 4)  # by `tickets.PRIORITIES` index (None, low, normal, high, urgent)
PRIORITY_BACK = {1: 1, 2: 2, 3: 3, 4: 4}  # Freshdesk priority -> PRIORITIES index
SOURCE = (1, 2, 2, 7)  # by `tickets.VIAS` index (email, web, api, chat)
RATING_BASE = 380_000_000_000
RATING_VALUE = {2: 103, 3: -103}  # by `TicketTable.csat` (good, bad)
FEEDBACK = {2: "Thanks, quick and helpful.", 3: "Still not fixed, this keeps happening."}
# company custom fields: the four pulsehub writes, and the CRM link the admin fills in
COMPANY_FIELDS = {
    "health_score": "number",
    "health_status": "text",
    "renewal_risk": "number",
    "renewal_risk_level": "text",
    "crm_account_id": "text",
}


def fd_time(epoch: int | None) -> str | None:
    return None if not epoch else zd_datetime(epoch)


def company(org: dict[str, Any]) -> dict[str, Any]:
    """A company as `GET /api/v2/companies` returns it."""
    fields = dict(org.get("organization_fields") or {})
    return {
        "id": org["id"],
        "name": org["name"],
        "description": org.get("details") or None,
        "note": org.get("notes") or None,
        "domains": list(org.get("domain_names") or []),
        "custom_fields": {
            **{k: fields.get(k) for k in COMPANY_FIELDS if k != "crm_account_id"},
            "crm_account_id": org.get("external_id"),
        },
        "health_score": None,
        "account_tier": None,
        "renewal_date": None,
        "industry": None,
        "created_at": fd_time(org.get("created_at")),
        "updated_at": fd_time(org.get("updated_at")),
    }


def stats(t: TicketTable, pos: int) -> dict[str, Any]:
    """The `stats` object `include=stats` adds: when the ticket was first answered, resolved."""
    created, solved, status = t.created[pos], t.solved[pos], t.status[pos]
    responded = created + t.reply_min[pos] * 60 if status != NEW and t.reply_min[pos] else 0
    closed = solved + 4 * 86400 if status == CLOSED and solved else 0
    reopened = solved - 3600 if t.reopens[pos] and solved else 0
    return {
        "agent_responded_at": fd_time(responded or None),
        "requester_responded_at": fd_time(created),
        "first_responded_at": fd_time(responded or None),
        "status_updated_at": fd_time(t.updated[pos]),
        "reopened_at": fd_time(reopened or None),
        "resolved_at": fd_time(solved or None),
        "closed_at": fd_time(min(closed, t.updated[pos]) if closed else None),
        "pending_since": fd_time(t.updated[pos]) if status == PENDING else None,
    }


def ticket(world: World, pos: int, include: frozenset[str] = frozenset()) -> dict[str, Any]:
    """A ticket as `GET /api/v2/tickets` returns it (`include` adds stats, description)."""
    t = world.tickets
    extra = t.extra.get(pos, {})
    kind = TYPES[t.type[pos]]
    body: dict[str, Any] = {
        "id": pos + 1,
        "subject": subject_of(t, pos, world.subjects),
        "status": STATUS[t.status[pos]],
        "priority": PRIORITY[t.priority[pos]],
        "source": SOURCE[t.via[pos]],
        "type": kind.capitalize() if kind else None,
        "tags": t.tag_list(pos),
        "company_id": t.org[pos] or None,
        "requester_id": t.requester[pos] or None,
        "responder_id": t.assignee[pos] or None,
        "group_id": t.group[pos] or None,
        "product_id": None,
        "email_config_id": None,
        "cc_emails": [],
        "fwd_emails": [],
        "reply_cc_emails": [],
        "to_emails": None,
        "fr_escalated": False,
        "is_escalated": False,
        "spam": False,
        "due_by": fd_time(t.created[pos] + 3 * 86400),
        "fr_due_by": fd_time(t.created[pos] + 86400),
        "custom_fields": dict(extra.get("fd_custom_fields") or {}),
        "created_at": fd_time(t.created[pos]),
        "updated_at": fd_time(t.updated[pos]),
    }
    if t.status[pos] == DELETED:
        body["deleted"] = True
    if "stats" in include:
        body["stats"] = stats(t, pos)
    if "description" in include:
        text = str(extra.get("description") or f"{body['subject']}\n\nSent from the sandbox.")
        body["description"] = f"<div>{text}</div>"
        body["description_text"] = text
    return body


def rated(t: TicketTable, pos: int) -> bool:
    """Whether the ticket's customer answered the survey (good or bad)."""
    return t.csat[pos] in RATING_VALUE and t.status[pos] != DELETED and bool(t.solved[pos])


def rating(world: World, pos: int) -> dict[str, Any]:
    """A satisfaction rating of a rated ticket."""
    t = world.tickets
    when = fd_time(rating_created(t, pos))
    return {
        "id": RATING_BASE + pos + 1,
        "survey_id": 1,
        "user_id": t.requester[pos] or None,
        "agent_id": t.assignee[pos] or None,
        "group_id": t.group[pos] or None,
        "ticket_id": pos + 1,
        "feedback": FEEDBACK[t.csat[pos]],
        "ratings": {"default_question": RATING_VALUE[t.csat[pos]]},
        "created_at": when,
        "updated_at": when,
    }


def note(pos: int, stored: dict[str, Any]) -> dict[str, Any]:
    """A conversation entry (a note or reply) stored on a ticket."""
    body = str(stored.get("body") or "")
    return {
        "id": stored["id"],
        "body": f"<div>{body}</div>",
        "body_text": body,
        "incoming": False,
        "private": not stored.get("public", True),
        "user_id": stored.get("author_id"),
        "support_email": None,
        "source": 2,
        "ticket_id": pos + 1,
        "to_emails": [],
        "created_at": fd_time(stored.get("created_at")),
        "updated_at": fd_time(stored.get("created_at")),
    }
