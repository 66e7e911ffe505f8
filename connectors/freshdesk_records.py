"""Typed Freshdesk records, shaped as the neutral helpdesk records sync maps.

A company becomes an organization record (`domain_names`, `organization_fields` = its custom
fields, `external_id` = the CRM account id custom field, the explicit link); a ticket
becomes a ticket record (`organization_id` = company_id, status and priority as words, the
reply/resolution times from `include=stats` as `metric`, `csat_score` "good"/"bad" from the
satisfaction rating joined by the connector). Freshdesk's integers (API v2 reference):
status 2 Open (with no agent on it: "new", untaken, which is what acknowledges an escalation
once it changes), 3 Pending, 4 Resolved, 5 Closed, 6+ an account's custom statuses (mapped
in freshdesk_fields.yaml, unmapped ones count as on hold: still open); priority 1 Low,
2 Medium, 3 High, 4 Urgent; ratings 103..101 happy, 100 neutral, -101..-103 unhappy.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from pydantic import Field, model_validator

from connectors.records import (
    AwareDatetime,
    Int64,
    OptDatetime,
    OptFloat,
    OptInt,
    OptStr,
    Record,
    parse_iso,
)

STATUSES: dict[int, str] = {2: "open", 3: "pending", 4: "solved", 5: "closed"}
PRIORITIES: dict[int, str] = {1: "low", 2: "normal", 3: "high", 4: "urgent"}
PRIORITY_OF = {name: number for number, name in PRIORITIES.items()}
STATUS_OF = {"open": 2, "pending": 3, "solved": 4, "closed": 5}


class FdCompany(Record):
    """A company, as the organization entity reads it."""

    id: Int64
    name: str
    domain_names: list[str] = Field(default_factory=list)
    organization_fields: dict[str, Any] = Field(default_factory=dict)
    external_id: OptStr = None
    tags: list[str] = Field(default_factory=list)
    created_at: OptDatetime = None
    updated_at: AwareDatetime
    deleted_at: OptDatetime = None


def company_record(item: Any, link_field: str) -> Any:
    """The wire company renamed to the organization record's attributes (a non-object is
    passed on for validation to reject)."""
    if not isinstance(item, dict):
        return item
    custom = item.get("custom_fields")
    custom = custom if isinstance(custom, dict) else {}
    link = custom.get(link_field)
    return {
        **item,
        "domain_names": item.get("domains") or [],
        "organization_fields": custom,
        "external_id": str(link) if link not in (None, "") else None,
    }


class FdTicketStats(Record):
    """Reply and resolution times from a ticket's `stats` (minutes from creation)."""

    ticket_id: Int64
    reply_time_minutes: OptFloat = None
    full_resolution_minutes: OptFloat = None
    reopens: OptInt = None  # stats say when it was last reopened, not how often: 0 or 1
    replies: OptInt = None  # not reported by Freshdesk
    solved_at: OptDatetime = None
    updated_at: AwareDatetime


class FdTicket(Record):
    """A ticket in the neutral shape (see the module docstring)."""

    id: Int64
    organization_id: OptInt = None
    requester_id: OptInt = None
    subject: OptStr = None
    status: str
    priority: OptStr = None
    type: OptStr = None
    tags: list[str] = Field(default_factory=list)
    external_id: OptStr = None
    created_at: AwareDatetime
    updated_at: AwareDatetime
    metric: FdTicketStats | None = None
    csat_score: OptStr = None


def _minutes(start: dt.datetime | None, end: Any) -> float | None:
    when = parse_iso(end.replace("Z", "+00:00")) if isinstance(end, str) else None
    if start is None or when is None:
        return None
    return max(0.0, (when - start).total_seconds() / 60)


def rating_score(value: Any) -> str | None:
    """A rating's default question -> "good" | "bad" | "neutral" (None: not a rating)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return "good" if value > 100 else "bad" if value < 0 else "neutral"


def ticket_record(item: Any, statuses: Mapping[int, str], csat: str | None = None) -> Any:
    """The wire ticket renamed to the neutral record's attributes (status and priority as
    words, stats as `metric`); a value that cannot be read is passed on for validation to
    reject with its reason."""
    if not isinstance(item, dict):
        return item
    out = dict(item)
    status = item.get("status")
    if item.get("deleted") is True:
        out["status"] = "deleted"
    elif status == 2 and not item.get("responder_id"):
        out["status"] = "new"  # Open and no agent on it: what the neutral "new" means
    elif isinstance(status, int) and not isinstance(status, bool):
        out["status"] = statuses.get(status) or STATUSES.get(status) or "hold"
    priority = item.get("priority")
    if isinstance(priority, int) and not isinstance(priority, bool):
        out["priority"] = PRIORITIES.get(priority, str(priority))
    if isinstance(item.get("type"), str):
        out["type"] = item["type"].lower()
    out["organization_id"] = item.get("company_id")
    out["csat_score"] = csat
    stats = item.get("stats")
    if isinstance(stats, dict):
        created = parse_iso(str(item.get("created_at") or "").replace("Z", "+00:00"))
        solved = stats.get("resolved_at") or stats.get("closed_at")
        out["metric"] = {
            "ticket_id": item.get("id"),
            "reply_time_minutes": _minutes(created, stats.get("first_responded_at")),
            "full_resolution_minutes": _minutes(created, solved),
            "reopens": 1 if stats.get("reopened_at") else 0,
            "solved_at": solved,
            "updated_at": item.get("updated_at"),
        }
    return out


class FdRating(Record):
    """A satisfaction rating: which ticket, and the answer to the default question."""

    id: Int64
    ticket_id: Int64
    score: OptStr = None
    created_at: AwareDatetime

    @model_validator(mode="before")
    @classmethod
    def _score(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("ratings"), dict):
            return {**data, "score": rating_score(data["ratings"].get("default_question"))}
        return data
