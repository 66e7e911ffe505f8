"""Zendesk JSON shapes of tickets, metrics, satisfaction ratings, users, orgs and groups."""

from __future__ import annotations

from typing import Any

from sandbox.formats import zd_datetime
from sandbox.tickets import PRIORITIES, STATUSES, TYPES, VIAS, TicketTable, subject_of
from sandbox.world import World

METRIC_BASE = 400_000_000_000
RATING_BASE = 390_000_000_000
_COMMENTS = {2: "Thanks, quick and helpful.", 3: "Still not fixed, this keeps happening."}


def rating_created(t: TicketTable, pos: int) -> int:
    """When the satisfaction survey was answered (a few hours after solve)."""
    return t.solved[pos] + 3600 + (pos * 7919) % 14400


def ticket(world: World, pos: int, base: str, incremental: bool = False) -> dict[str, Any]:
    """A ticket as the Tickets API returns it."""
    t = world.tickets
    tid = pos + 1
    extra = t.extra.get(pos, {})
    subject = subject_of(t, pos, world.subjects)
    csat = t.csat[pos]
    rating: dict[str, Any] = {"score": ("unoffered", "offered", "good", "bad")[csat]}
    if csat >= 2:
        rating.update(id=RATING_BASE + tid, comment=_COMMENTS[csat])
    body: dict[str, Any] = {
        "url": f"{base}/api/v2/tickets/{tid}.json",
        "id": tid,
        "external_id": extra.get("external_id"),
        "via": {"channel": VIAS[t.via[pos]], "source": {"from": {}, "to": {}, "rel": None}},
        "created_at": zd_datetime(t.created[pos]),
        "updated_at": zd_datetime(t.updated[pos]),
        "type": TYPES[t.type[pos]],
        "subject": subject,
        "raw_subject": subject,
        "description": extra.get("description") or f"{subject}\n\nSent from the sandbox.",
        "priority": PRIORITIES[t.priority[pos]],
        "status": STATUSES[t.status[pos]],
        "recipient": None,
        "requester_id": t.requester[pos] or None,
        "submitter_id": t.requester[pos] or None,
        "assignee_id": t.assignee[pos] or None,
        "organization_id": t.org[pos] or None,
        "group_id": t.group[pos] or None,
        "collaborator_ids": [],
        "follower_ids": [],
        "email_cc_ids": [],
        "forum_topic_id": None,
        "problem_id": None,
        "has_incidents": False,
        "is_public": True,
        "due_at": None,
        "tags": t.tag_list(pos),
        "custom_fields": extra.get("custom_fields", []),
        "fields": extra.get("custom_fields", []),
        "satisfaction_rating": rating,
        "sharing_agreement_ids": [],
        "custom_status_id": 1 + t.status[pos],
        "followup_ids": [],
        "ticket_form_id": 1,
        "brand_id": 1,
        "allow_channelback": False,
        "allow_attachments": True,
        "from_messaging_channel": False,
    }
    if incremental:
        body["generated_timestamp"] = t.updated[pos]
    return body


def _minutes(calendar: int | None) -> dict[str, int | None]:
    return {"calendar": calendar, "business": None if calendar is None else int(calendar * 0.55)}


def metric(world: World, pos: int, base: str) -> dict[str, Any]:
    """A ticket_metric record derived from the ticket's timings."""
    t = world.tickets
    created, solved = t.created[pos], t.solved[pos]
    replied = t.status[pos] != 0
    reply = t.reply_min[pos] if replied else None
    full = t.resolution_min[pos] if solved else None
    first = None if full is None else max(reply or 0, int(full / (1 + t.reopens[pos])))
    mid = METRIC_BASE + pos + 1
    return {
        "url": f"{base}/api/v2/ticket_metrics/{mid}.json",
        "id": mid,
        "ticket_id": pos + 1,
        "created_at": zd_datetime(created),
        "updated_at": zd_datetime(t.updated[pos]),
        "group_stations": 1 + (t.group[pos] % 2),
        "assignee_stations": 1 if t.assignee[pos] else 0,
        "reopens": t.reopens[pos],
        "replies": t.replies[pos] if replied else 0,
        "assignee_updated_at": zd_datetime(t.updated[pos]) if t.assignee[pos] else None,
        "requester_updated_at": zd_datetime(created),
        "status_updated_at": zd_datetime(t.updated[pos]),
        "initially_assigned_at": zd_datetime(created + 300) if t.assignee[pos] else None,
        "assigned_at": zd_datetime(created + 300) if t.assignee[pos] else None,
        "solved_at": zd_datetime(solved) if solved else None,
        "latest_comment_added_at": zd_datetime(t.updated[pos]),
        "reply_time_in_minutes": _minutes(reply),
        "reply_time_in_seconds": {"calendar": None if reply is None else reply * 60},
        "first_resolution_time_in_minutes": _minutes(first),
        "full_resolution_time_in_minutes": _minutes(full),
        "agent_wait_time_in_minutes": _minutes(None if full is None else int(full * 0.2)),
        "requester_wait_time_in_minutes": _minutes(None if full is None else int(full * 0.7)),
        "on_hold_time_in_minutes": _minutes(0 if solved else None),
        "custom_status_updated_at": zd_datetime(t.updated[pos]),
    }


def rating(world: World, pos: int, base: str) -> dict[str, Any]:
    """A satisfaction_rating record of a solved ticket."""
    t = world.tickets
    rid = RATING_BASE + pos + 1
    score = ("unoffered", "offered", "good", "bad")[t.csat[pos]]
    when = zd_datetime(rating_created(t, pos))
    return {
        "url": f"{base}/api/v2/satisfaction_ratings/{rid}.json",
        "id": rid,
        "assignee_id": t.assignee[pos] or None,
        "group_id": t.group[pos] or None,
        "requester_id": t.requester[pos] or None,
        "ticket_id": pos + 1,
        "score": score,
        "created_at": when,
        "updated_at": when,
        "comment": _COMMENTS.get(t.csat[pos]),
        "reason": None,
        "reason_id": None,
    }


def with_times(record: dict[str, Any], base: str, kind: str) -> dict[str, Any]:
    """A stored org/user/group dict with `url` and ISO timestamps."""
    out = dict(record)
    out["url"] = f"{base}/api/v2/{kind}/{record['id']}.json"
    for key in ("created_at", "updated_at"):
        if isinstance(out.get(key), int):
            out[key] = zd_datetime(out[key])
    return out
