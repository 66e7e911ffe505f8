"""Freshdesk writes: company update (custom fields), ticket update (tags replace the list),
ticket create, private notes.

Per the Freshdesk API v2 reference every update is one record per request; `tags` on a
ticket update replaces the ticket's whole tag list; a create needs a requester (one of
requester_id, email, phone, ...), subject, description, status and priority; a note needs a
body; `company_id` must be one of the requester's companies. Every write answers the record as it now stands; a bad value is a 400 "Validation
failed" naming the field. Writes land in the write log with system "freshdesk".

Simplified: an unknown requester email becomes the first agent (no contact is created); a
contact has one company.
"""

from __future__ import annotations

import re
from typing import Any

from sandbox.fd_common import FdError, invalid, read_body, routes
from sandbox.fd_reads import live_org, ticket_pos
from sandbox.fd_shapes import COMPANY_FIELDS, PRIORITY_BACK, STATUS_BACK, company, note, ticket
from sandbox.httpd import Request, Response, json_response
from sandbox.state import State
from sandbox.tickets import DELETED, NEW, OPEN, SOLVED, TYPES
from sandbox.zd_comments import add_comment

ROUTES, route = routes()
COMPANY_KEYS = frozenset(
    {"name", "description", "note", "domains", "custom_fields", "health_score", "account_tier",
     "renewal_date", "industry"}
)  # fmt: skip
TICKET_KEYS = frozenset(
    {"subject", "description", "status", "priority", "type", "tags", "custom_fields",
     "group_id", "responder_id", "company_id", "requester_id", "email", "phone", "source"}
)  # fmt: skip
MAX_TAG = 32


def _unexpected(body: dict[str, Any], allowed: frozenset[str]) -> None:
    errors = [
        {"field": k, "message": "Unexpected/invalid field in request", "code": "invalid_field"}
        for k in sorted(set(body) - allowed)
    ]
    if errors:
        raise FdError(400, "invalid_field", "Validation failed", errors)


def _custom_fields(fields: Any) -> dict[str, Any]:
    if not isinstance(fields, dict):
        raise invalid("custom_fields", "It should be a/an key/value pair", "datatype_mismatch")
    for key, value in fields.items():
        kind = COMPANY_FIELDS.get(key)
        if kind is None:
            raise invalid(key, "Unexpected/invalid field in request", "invalid_field")
        if (
            kind == "number"
            and value is not None
            and (isinstance(value, bool) or not isinstance(value, int | float))
        ):
            raise invalid(key, "Value set is of type String.It should be a/an Number",
                          "datatype_mismatch")  # fmt: skip
    return fields


@route("PUT", r"/api/v2/companies/(?P<id>\d+)")
def update_company(state: State, req: Request, m: re.Match[str]) -> Response:
    body = read_body(req)
    _unexpected(body, COMPANY_KEYS)
    fields = _custom_fields(body.get("custom_fields") or {})
    with state.world.lock:
        org = live_org(state, m["id"])
        changes: dict[str, Any] = {}
        for key, attr in (("name", "name"), ("description", "details"), ("note", "notes"),
                          ("domains", "domain_names")):  # fmt: skip
            if key in body:
                org[attr] = changes[key] = body[key]
        if "crm_account_id" in fields:
            org["external_id"] = fields["crm_account_id"]
        org_fields = {k: v for k, v in fields.items() if k != "crm_account_id"}
        org["organization_fields"] = {**(org.get("organization_fields") or {}), **org_fields}
        if fields:
            changes["custom_fields"] = fields
        org["updated_at"] = state.world.clock.epoch()
        state.record_write("freshdesk", "company_fields", str(org["id"]), changes)
        return json_response(200, company(org))


def _tags(value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(x, str) for x in value):
        raise invalid("tags", "It should be a/an Array of String", "datatype_mismatch")
    if too_long := [x for x in value if len(x) > MAX_TAG]:
        raise invalid("tags", f"It should only contain elements that have maximum of {MAX_TAG} "
                      f"characters: {too_long[0]!r}", "invalid_value")  # fmt: skip
    return list(dict.fromkeys(value))


def _choice(body: dict[str, Any], key: str, allowed: dict[int, int]) -> int | None:
    if key not in body:
        return None
    value = body[key]
    if isinstance(value, bool) or value not in allowed:
        values = ",".join(str(v) for v in allowed)
        raise invalid(key, f"It should be one of these values: '{values}'")
    return allowed[value]


def _apply(state: State, pos: int, body: dict[str, Any]) -> dict[str, Any]:
    """Apply ticket attributes; returns what changed (for the write log)."""
    t = state.world.tickets
    now = state.world.clock.epoch()
    status = _choice(body, "status", STATUS_BACK)
    priority = _choice(body, "priority", PRIORITY_BACK)
    tags = _tags(body["tags"]) if "tags" in body else None
    if status is not None and not (status == OPEN and t.status[pos] == NEW):
        t.status[pos] = status  # Open on an untaken ticket leaves it untaken
        if status == SOLVED and not t.solved[pos]:
            t.solved[pos] = now
    if priority is not None:
        t.priority[pos] = priority
    if tags is not None:
        t.tag_override[pos] = tags
    if "responder_id" in body:  # an agent takes the ticket: no longer untouched
        t.assignee[pos] = int(body["responder_id"] or 0)
        if t.assignee[pos] and t.status[pos] == NEW:
            t.status[pos] = OPEN
    if "group_id" in body:
        t.group[pos] = int(body["group_id"] or 0)
    extra = t.extra.setdefault(pos, {})
    if "subject" in body:
        extra["subject"] = str(body["subject"])
    if isinstance(body.get("custom_fields"), dict):
        extra["fd_custom_fields"] = {**extra.get("fd_custom_fields", {}), **body["custom_fields"]}
    if isinstance(body.get("type"), str) and body["type"].lower() in TYPES:
        t.type[pos] = TYPES.index(body["type"].lower())
    t.touch(pos, now)
    return {k: v for k, v in body.items() if k != "tags"}


@route("PUT", r"/api/v2/tickets/(?P<id>\d+)")
def update_ticket(state: State, req: Request, m: re.Match[str]) -> Response:
    body = read_body(req)
    _unexpected(body, TICKET_KEYS)
    with state.world.lock:
        pos = ticket_pos(state, m["id"])
        if state.world.tickets.status[pos] == DELETED:
            raise FdError(404, "not_found", "The requested resource could not be found")
        other = _apply(state, pos, body)
        tid = str(pos + 1)
        if "tags" in body:
            state.record_write("freshdesk", "ticket_tags_set", tid, {"tags": body["tags"]})
        if other:
            state.record_write("freshdesk", "ticket_updated", tid, other)
        return json_response(200, ticket(state.world, pos))


def _create_errors(body: dict[str, Any]) -> list[dict[str, str]]:
    errors = []
    if not any(body.get(k) for k in ("requester_id", "email", "phone")):
        errors.append({"field": "requester_id", "code": "missing_field", "message":
                       "Please fill at least 1 of email, mobile, phone, requester_id, "
                       "twitter_id, facebook_id, unique_external_id fields"})  # fmt: skip
    for key in ("subject", "description", "status", "priority"):
        if body.get(key) in (None, ""):
            errors.append({"field": key, "code": "missing_field",
                           "message": "It should not be blank as this is a mandatory field"})  # fmt: skip
    return errors


def _requester(state: State, body: dict[str, Any]) -> int:
    """The requester's contact id: given, or found by email (else the first agent)."""
    users = state.world.zd_users
    if body.get("requester_id"):
        if int(body["requester_id"]) not in users:
            raise invalid("requester_id", "There is no contact matching the given requester_id")
        return int(body["requester_id"])
    email = str(body.get("email") or "").lower()
    found = next((u["id"] for u in users.values() if str(u.get("email")).lower() == email), None)
    return int(found or state.world.agents[0])


@route("POST", r"/api/v2/tickets")
def create_ticket(state: State, req: Request, m: re.Match[str]) -> Response:
    body = read_body(req)
    _unexpected(body, TICKET_KEYS)
    if errors := _create_errors(body):
        raise FdError(400, "missing_field", "Validation failed", errors)
    _choice(body, "status", STATUS_BACK)  # refused before anything is stored
    _choice(body, "priority", PRIORITY_BACK)
    _tags(body.get("tags") or [])
    with state.world.lock:
        w = state.world
        requester = _requester(state, body)
        org = int(body.get("company_id") or 0)
        if org and org not in w.orgs:
            raise invalid("company_id", "There is no company matching the given company_id")
        if org and (w.zd_users.get(requester) or {}).get("organization_id") != org:
            raise invalid("company_id", "The requester does not belong to the specified company")
        now = w.clock.epoch()
        pos = w.tickets.append(
            org=org, requester=requester, assignee=int(body.get("responder_id") or 0),
            group=int(body.get("group_id") or w.groups[3]["id"]), created=now, updated=now,
            solved=0, status=NEW, priority=0, type=0, via=2, tags=0, reply_min=0,
            resolution_min=0, reopens=0, replies=0, csat=0,
        )  # fmt: skip
        w.tickets.extra[pos] = {"description": str(body.get("description"))}
        _apply(state, pos, {**body, "tags": body.get("tags") or []})
        state.record_write("freshdesk", "ticket_created", str(pos + 1), body)
        return json_response(201, ticket(w, pos), {"Location": f"/api/v2/tickets/{pos + 1}"})


@route("POST", r"/api/v2/tickets/(?P<id>\d+)/notes")
def add_note(state: State, req: Request, m: re.Match[str]) -> Response:
    body = read_body(req)
    text = body.get("body")
    if not isinstance(text, str) or not text.strip():
        raise invalid(
            "body", "It should not be blank as this is a mandatory field", "missing_field"
        )
    with state.world.lock:
        pos = ticket_pos(state, m["id"])
        private = bool(body.get("private", True))
        stored = add_comment(state, pos, {"body": text, "public": not private})
        state.world.tickets.touch(pos, state.world.clock.epoch())
        state.record_write("freshdesk", "ticket_note", str(pos + 1), {"body": text,
                           "private": private})  # fmt: skip
        return json_response(201, note(pos, stored))
