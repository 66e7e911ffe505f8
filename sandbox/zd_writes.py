"""Zendesk ticket writes: create (Idempotency-Key), tags, updates, update_many as a job status.

Every write records a ticket audit (`sandbox.zd_audits`): creation returns its Comment and
Create events, updates their Comment and Change events.

Simplified: jobs are applied when queued and report queued -> working -> completed on
successive polls. Comments are stored (and listed) by
`sandbox.zd_comments`. The single-ticket PUT also applies `additional_tags` / `remove_tags`, which Zendesk documents only
for `update_many` ("Adding tags to tickets without overwriting existing tags"): pulsehub sends
them to `update_many` alone.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Callable
from typing import Any

from sandbox.app import BadRequest, RouteTable, dumps
from sandbox.httpd import Request, Response, json_response
from sandbox.state import State
from sandbox.tickets import NEW, OPEN, PRIORITIES, SOLVED, STATUSES, TYPES
from sandbox.zd_audits import audited, record_creation, record_update
from sandbox.zd_comments import add_comment
from sandbox.zd_lists import not_found
from sandbox.zd_shapes import ticket

MAX_BATCH = 100
IDEMPOTENCY_TTL = 2 * 3600


ROUTES = RouteTable()


def read_json(req: Request) -> dict[str, Any]:
    try:
        body = req.json()
    except ValueError as exc:
        raise BadRequest(400, "InvalidJson", "body is not valid JSON") from exc
    if not isinstance(body, dict):
        raise BadRequest(400, "InvalidJson", "body must be an object")
    return body


def invalid(message: str) -> BadRequest:
    return BadRequest(422, "RecordInvalid", message)


def _ticket_pos(state: State, raw: Any) -> int:
    pos = state.world.tickets.position(int(raw)) if str(raw).isdigit() else None
    if pos is None or state.world.tickets.status[pos] == 6:
        raise not_found()
    return pos


def _tags(body: dict[str, Any]) -> list[str]:
    tags = body.get("tags")
    if not isinstance(tags, list):
        raise invalid("tags must be a list")
    return [str(t).strip().lower().replace(" ", "_") for t in tags]


@ROUTES.add("DELETE", r"/api/v2/tickets/(?P<id>\d+)/tags\.json")
@ROUTES.add("POST", r"/api/v2/tickets/(?P<id>\d+)/tags\.json")
@ROUTES.add("PUT", r"/api/v2/tickets/(?P<id>\d+)/tags\.json")
def tags_write(state: State, req: Request, m: re.Match[str]) -> Response:
    body = read_json(req)
    with state.world.lock:
        pos = _ticket_pos(state, m.group("id"))
        t = state.world.tickets
        before = audited(ticket(state.world, pos, req.base_url))
        current, tags = t.tag_list(pos), _tags(body)
        if req.method == "PUT":
            new = current + [x for x in tags if x not in current]
            kind = "ticket_tags_added"
        elif req.method == "DELETE":
            new = [x for x in current if x not in tags]
            kind = "ticket_tags_removed"
        else:
            new, kind = list(dict.fromkeys(tags)), "ticket_tags_set"
        t.tag_override[pos] = new
        t.touch(pos, state.world.clock.epoch())
        state.record_write("zendesk", kind, str(pos + 1), {"tags": tags})
        record_update(state, pos, req, before, None)
        return json_response(200 if req.method != "POST" else 201, {"tags": new})


def _apply_ticket(state: State, req: Request, pos: int, attrs: dict[str, Any]) -> dict[str, Any]:
    """Apply ticket attributes (incl. additional_tags/remove_tags); returns the update's audit."""
    t = state.world.tickets
    before = audited(ticket(state.world, pos, req.base_url))
    if "status" in attrs:
        if attrs["status"] not in STATUSES[:6]:
            raise invalid(f"Status: {attrs['status']} is not valid")
        t.status[pos] = STATUSES.index(attrs["status"])
        if attrs["status"] == "solved" and not t.solved[pos]:
            t.solved[pos] = state.world.clock.epoch()
    if "priority" in attrs:
        if attrs["priority"] not in PRIORITIES:
            raise invalid(f"Priority: {attrs['priority']} is not valid")
        t.priority[pos] = PRIORITIES.index(attrs["priority"])
    if "type" in attrs:
        if attrs["type"] not in TYPES:
            raise invalid(f"Type: {attrs['type']} is not valid")
        t.type[pos] = TYPES.index(attrs["type"])
    if "assignee_id" in attrs:
        t.assignee[pos] = int(attrs["assignee_id"] or 0)
        if t.assignee[pos] and t.status[pos] == NEW:  # Zendesk's native rule: assigned -> open
            t.status[pos] = OPEN
    if "group_id" in attrs:
        t.group[pos] = int(attrs["group_id"] or 0)
    extra = t.extra.setdefault(pos, {})
    for key in ("subject", "external_id", "custom_fields"):
        if key in attrs:
            extra[key] = attrs[key]
    tags = t.tag_list(pos)
    if "tags" in attrs:
        tags = _tags(attrs)
    # the write log records what was asked for, like the tags endpoints (a no-op add included)
    added = list(dict.fromkeys(str(x) for x in attrs.get("additional_tags", [])))
    removed = list(dict.fromkeys(str(x) for x in attrs.get("remove_tags", [])))
    tags = [x for x in tags + [a for a in added if a not in tags] if x not in removed]
    t.tag_override[pos] = tags
    comment = None
    if "comment" in attrs:
        comment = add_comment(state, pos, attrs["comment"])
        t.replies[pos] += 1
    t.touch(pos, state.world.clock.epoch())
    tid = str(pos + 1)
    if added:
        state.record_write("zendesk", "ticket_tags_added", tid, {"tags": added})
    if removed:
        state.record_write("zendesk", "ticket_tags_removed", tid, {"tags": removed})
    other = {k: v for k, v in attrs.items() if k not in ("id", "additional_tags", "remove_tags")}
    if other:
        state.record_write("zendesk", "ticket_updated", tid, other)
    return record_update(state, pos, req, before, comment)


def queue_job(state: State, req: Request, results: list[dict[str, Any]], job_type: str) -> Response:
    jid = f"V3-{secrets.token_hex(16)}"
    job = {
        "id": jid,
        "url": f"{req.base_url}/api/v2/job_statuses/{jid}.json",
        "total": len(results),
        "progress": None,
        "status": "queued",
        "message": None,
        "results": None,
        "job_type": job_type,
    }
    state.zd_jobs[jid] = {**job, "_results": results, "_created": state.world.clock.epoch()}
    return json_response(200, {"job_status": job})


def batch_items(req: Request, body: dict[str, Any], plural: str) -> list[dict[str, Any]]:
    """Items of a batch update: `{plural: [...]}` or bulk `?ids=` with one `{singular: {...}}`."""
    if "ids" in req.query:
        ids = [i for i in req.query["ids"].split(",") if i]
        items = [{**(body.get(plural[:-1]) or {}), "id": i} for i in ids]
    else:
        items = body.get(plural) or []
    if not isinstance(items, list):
        raise invalid(f"{plural} must be a list")
    if len(items) > MAX_BATCH:
        raise BadRequest(400, "TooManyValues", f"You may only specify up to {MAX_BATCH} values")
    return items


def bulk_update(
    state: State, req: Request, plural: str, job_kind: str, apply: Callable[[dict[str, Any]], int]
) -> Response:
    """An update_many: apply each item under the world lock and queue a job with the results,
    each item updated (with its id) or failed with the reason."""
    items = batch_items(req, read_json(req), plural)
    results: list[dict[str, Any]] = []
    with state.world.lock:
        for index, item in enumerate(items):
            try:
                done = apply(item)
                results.append(
                    {"id": done, "action": "update", "status": "Updated", "success": True}
                )
            except BadRequest as exc:
                results.append({"index": index, "id": item.get("id"), "error": exc.code,
                                "details": exc.message, "success": False})  # fmt: skip
    return queue_job(state, req, results, job_kind)


@ROUTES.add("PUT", r"/api/v2/tickets/update_many\.json")
def tickets_update_many(state: State, req: Request, m: re.Match[str]) -> Response:
    def apply(item: dict[str, Any]) -> int:
        pos = _ticket_pos(state, item.get("id"))
        _apply_ticket(state, req, pos, item)
        return pos + 1

    return bulk_update(state, req, "tickets", "ThirdPartyTicketUpdate", apply)


@ROUTES.add("PUT", r"/api/v2/tickets/(?P<id>\d+)\.json")
def ticket_update(state: State, req: Request, m: re.Match[str]) -> Response:
    body = read_json(req)
    with state.world.lock:
        pos = _ticket_pos(state, m.group("id"))
        audit = _apply_ticket(state, req, pos, body.get("ticket") or {})
        return json_response(
            200, {"ticket": ticket(state.world, pos, req.base_url), "audit": audit}
        )


@ROUTES.add("POST", r"/api/v2/tickets\.json")
def ticket_create(state: State, req: Request, m: re.Match[str]) -> Response:
    key = req.header("idempotency-key")
    digest = hashlib.sha256(req.body).hexdigest()
    if key:
        if len(key) > 255:
            raise BadRequest(400, "InvalidValue", "Idempotency-Key is too long")
        seen = state.idempotency.get(key)
        if seen is not None and state.world.clock.epoch() - seen[3] > IDEMPOTENCY_TTL:
            seen = None  # keys are remembered for about two hours
        if seen is not None:
            if seen[0] != digest:
                return json_response(
                    400,
                    {
                        "error": "IdempotentRequestError",
                        "description": "Idempotency key reused with a different request",
                    },
                )
            return Response(
                seen[1],
                seen[2],
                {"Content-Type": "application/json; charset=utf-8", "x-idempotency-lookup": "hit"},
            )
    attrs = read_json(req).get("ticket")
    if not isinstance(attrs, dict):
        raise invalid("ticket is required")
    comment = attrs.get("comment") or {}
    if not (attrs.get("subject") or comment.get("body")):
        raise invalid("Description: cannot be blank")
    with state.world.lock:
        w = state.world
        now = w.clock.epoch()
        org = int(attrs.get("organization_id") or 0)
        if org and org not in w.orgs:
            raise invalid("Organization: is invalid")
        assignee = int(attrs.get("assignee_id") or 0)
        pos = w.tickets.append(
            org=org,
            requester=int(attrs.get("requester_id") or w.agents[0]),
            assignee=assignee,
            group=int(attrs.get("group_id") or w.groups[3]["id"]),
            created=now,
            updated=now,
            solved=0,
            status=OPEN if assignee else NEW,
            priority=PRIORITIES.index(attrs.get("priority"))
            if attrs.get("priority") in PRIORITIES
            else 0,
            type=TYPES.index(attrs.get("type")) if attrs.get("type") in TYPES else 0,
            via=2,
            tags=0,
            reply_min=0,
            resolution_min=0,
            reopens=0,
            replies=0,
            csat=0,
        )
        w.tickets.tag_override[pos] = _tags({"tags": attrs.get("tags") or []})
        w.tickets.extra[pos] = {
            "subject": attrs.get("subject") or comment.get("body", "")[:80],
            "description": comment.get("body") or attrs.get("subject"),
            "external_id": attrs.get("external_id"),
            "custom_fields": attrs.get("custom_fields") or [],
        }
        if attrs.get("status") in STATUSES[:6]:
            w.tickets.status[pos] = STATUSES.index(attrs["status"])
            if w.tickets.status[pos] == SOLVED:
                w.tickets.solved[pos] = now
        state.record_write("zendesk", "ticket_created", str(pos + 1), attrs)
        audit = record_creation(state, pos, req, STATUSES[w.tickets.status[pos]])
        body = dumps({"ticket": ticket(w, pos, req.base_url), "audit": audit})
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "Location": f"{req.base_url}/api/v2/tickets/{pos + 1}.json",
    }
    if key:
        state.idempotency[key] = (digest, 201, body, state.world.clock.epoch())
        headers["x-idempotency-lookup"] = "miss"
    return Response(201, body, headers)
