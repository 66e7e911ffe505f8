"""Zendesk list and show endpoints: cursor (page[size]) or offset pagination, single records.

Simplified: cursors encode a position in id order, so a record deleted between pages shifts
the next page by one; `sort_by` is not supported.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Sequence
from typing import Any

from sandbox.app import BadRequest, RouteTable
from sandbox.formats import zd_datetime
from sandbox.httpd import Request, Response, json_response
from sandbox.state import State
from sandbox.tickets import DELETED
from sandbox.world import ORG_FIELD_KEYS
from sandbox.zd_shapes import METRIC_BASE, metric, ticket, with_times

ORG_FIELD_TYPES = {
    "health_score": "decimal",
    "health_status": "text",
    "renewal_risk": "decimal",
    "renewal_risk_level": "text",
}


# Resources the sandbox does not model answer as an account that has none of them (so
# generic clients that probe every resource, such as tap-zendesk's discovery, can run).
UNMODELLED = {
    "user_fields": "user_fields",
    "ticket_fields": "ticket_fields",
    "ticket_forms": "ticket_forms",
    "group_memberships": "group_memberships",
    "macros": "macros",
    "tags": "tags",
    "slas/policies": "sla_policies",
    "channels/voice/phone_numbers": "phone_numbers",
    "search": "results",
}


ROUTES = RouteTable()


def not_found() -> BadRequest:
    return BadRequest(404, "RecordNotFound", "Not found")


def paginate(
    req: Request, kind: str, keys: Sequence[int], render: Callable[[int], dict[str, Any]]
) -> Response:
    """Cursor pagination when `page[size]`/`page[after]` is given, offset pagination otherwise."""
    q = req.query
    path = f"{req.base_url}{req.path}"
    if any(k.startswith("page[") for k in q):
        size = max(1, min(100, int(q.get("page[size]", 100))))
        start = 0
        if q.get("page[after]"):
            start = int(base64.urlsafe_b64decode(q["page[after]"] + "==").decode()) + 1
        chunk = list(keys[start : start + size])
        has_more = start + size < len(keys)
        after = base64.urlsafe_b64encode(str(start + len(chunk) - 1).encode()).decode().rstrip("=")
        before = base64.urlsafe_b64encode(str(start).encode()).decode().rstrip("=")
        extra = "".join(f"&{k}={v}" for k, v in q.items() if not k.startswith("page["))
        return json_response(
            200,
            {
                kind: [render(k) for k in chunk],
                "meta": {
                    "has_more": has_more,
                    "after_cursor": after if chunk else None,
                    "before_cursor": before if chunk else None,
                },
                "links": {
                    "next": f"{path}?page[size]={size}&page[after]={after}{extra}"
                    if has_more
                    else None,
                    "prev": f"{path}?page[size]={size}&page[before]={before}{extra}"
                    if start
                    else None,
                },
            },
        )
    per_page = max(1, min(100, int(q.get("per_page", 100))))
    page_no = max(1, int(q.get("page", 1)))
    start = (page_no - 1) * per_page
    chunk = list(keys[start : start + per_page])
    more = start + per_page < len(keys)
    return json_response(
        200,
        {
            kind: [render(k) for k in chunk],
            "next_page": f"{path}?page={page_no + 1}&per_page={per_page}" if more else None,
            "previous_page": f"{path}?page={page_no - 1}&per_page={per_page}"
            if page_no > 1
            else None,
            "count": len(keys),
        },
    )


@ROUTES.add("GET", rf"/api/v2/(?P<kind>{'|'.join(UNMODELLED)})\.json")
def empty_list(state: State, req: Request, m: re.Match[str]) -> Response:
    key = UNMODELLED[m.group("kind")]
    meta = {"has_more": False, "after_cursor": None, "before_cursor": None}
    return json_response(
        200,
        {key: [], "next_page": None, "previous_page": None, "count": 0, "meta": meta},
    )


@ROUTES.add("GET", r"/api/v2/organizations\.json")
def organizations(state: State, req: Request, m: re.Match[str]) -> Response:
    orgs = state.world.orgs
    keys = sorted(orgs)
    return paginate(
        req, "organizations", keys, lambda k: with_times(orgs[k], req.base_url, "organizations")
    )


@ROUTES.add("GET", r"/api/v2/users\.json")
def users(state: State, req: Request, m: re.Match[str]) -> Response:
    us = state.world.zd_users
    role = req.query.get("role")
    keys = sorted(k for k, u in us.items() if role is None or u["role"] == role)
    return paginate(req, "users", keys, lambda k: with_times(us[k], req.base_url, "users"))


@ROUTES.add("GET", r"/api/v2/groups\.json")
def groups(state: State, req: Request, m: re.Match[str]) -> Response:
    gs = {g["id"]: g for g in state.world.groups}
    return paginate(req, "groups", sorted(gs), lambda k: with_times(gs[k], req.base_url, "groups"))


@ROUTES.add("GET", r"/api/v2/tickets\.json")
def tickets(state: State, req: Request, m: re.Match[str]) -> Response:
    t = state.world.tickets
    ext = req.query.get("external_id")
    if ext is None:
        keys = [p for p in range(len(t)) if t.status[p] != DELETED]
    else:  # only tickets written through the API carry one (`extra`): an index, as Zendesk's
        keys = sorted(
            p for p, e in t.extra.items() if e.get("external_id") == ext and t.status[p] != DELETED
        )
    return paginate(req, "tickets", keys, lambda p: ticket(state.world, p, req.base_url))


@ROUTES.add("GET", r"/api/v2/ticket_metrics\.json")
def ticket_metrics(state: State, req: Request, m: re.Match[str]) -> Response:
    t = state.world.tickets
    keys = [p for p in range(len(t)) if t.status[p] != DELETED]
    return paginate(req, "ticket_metrics", keys, lambda p: metric(state.world, p, req.base_url))


@ROUTES.add("GET", r"/api/v2/organization_fields\.json")
def org_fields(state: State, req: Request, m: re.Match[str]) -> Response:
    when = zd_datetime(state.world.clock.epoch() - 400 * 86400)
    defs = [
        {
            "url": f"{req.base_url}/api/v2/organization_fields/{7000 + i}.json",
            "id": 7000 + i,
            "type": ORG_FIELD_TYPES[key],
            "key": key,
            "title": key.replace("_", " ").title(),
            "description": "written by pulsehub",
            "raw_title": key.replace("_", " ").title(),
            "position": i,
            "active": True,
            "system": False,
            "regexp_for_validation": None,
            "created_at": when,
            "updated_at": when,
        }
        for i, key in enumerate(ORG_FIELD_KEYS)
    ]
    return json_response(
        200,
        {"organization_fields": defs, "next_page": None, "previous_page": None, "count": len(defs)},
    )


@ROUTES.add("GET", r"/api/v2/(?P<kind>tickets|organizations|users|groups)/(?P<id>\d+)\.json")
def show(state: State, req: Request, m: re.Match[str]) -> Response:
    kind, rid = m.group("kind"), int(m.group("id"))
    w = state.world
    if kind == "tickets":
        pos = w.tickets.position(rid)
        if pos is None or w.tickets.status[pos] == DELETED:
            raise not_found()
        return json_response(200, {"ticket": ticket(w, pos, req.base_url)})
    store = {"organizations": w.orgs, "users": w.zd_users}.get(kind) or {
        g["id"]: g for g in w.groups
    }
    if rid not in store:
        raise not_found()
    return json_response(200, {kind[:-1]: with_times(store[rid], req.base_url, kind)})


@ROUTES.add("GET", r"/api/v2/tickets/(?P<id>\d+)/metrics\.json")
@ROUTES.add("GET", r"/api/v2/ticket_metrics/(?P<id>\d+)\.json")
def show_metric(state: State, req: Request, m: re.Match[str]) -> Response:
    rid = int(m.group("id"))
    pos = state.world.tickets.position(rid - METRIC_BASE if rid > METRIC_BASE else rid)
    if pos is None or state.world.tickets.status[pos] == DELETED:
        raise not_found()
    return json_response(200, {"ticket_metric": metric(state.world, pos, req.base_url)})


def _view_job(state: State, jid: str) -> dict[str, Any] | None:
    """A job's public status as one poll sees it; None once unknown or older than a day."""
    job = state.zd_jobs.get(jid)
    if job is None or state.world.clock.epoch() - job["_created"] > 86400:
        return None  # job statuses are kept for one day
    public = {k: v for k, v in job.items() if not k.startswith("_")}
    if job["status"] == "queued":  # first poll: working; every later poll: completed
        job["status"], job["progress"] = "completed", job["total"]
        job["message"] = f"Completed at {zd_datetime(state.world.clock.epoch())}"
        job["results"] = job["_results"]
        return {**public, "status": "working", "progress": 0}
    return public


@ROUTES.add("GET", r"/api/v2/job_statuses/show_many\.json")
def job_statuses_many(state: State, req: Request, m: re.Match[str]) -> Response:
    """`show_many?ids=a,b`: the listed jobs still kept, in the order asked; unknown ids left out.

    Each listed job advances as a poll of it alone would. Capped at 100 ids, as Zendesk's other
    show_many endpoints are (the Job Statuses reference names no cap).
    """
    ids = [i for i in req.query.get("ids", "").split(",") if i]
    if len(ids) > 100:
        raise BadRequest(400, "TooManyValues", "You may only specify up to 100 values")
    jobs = [job for job in (_view_job(state, i) for i in ids) if job is not None]
    return json_response(200, {"job_statuses": jobs})


@ROUTES.add("GET", r"/api/v2/job_statuses/(?P<id>[\w-]+)\.json")
def job_status(state: State, req: Request, m: re.Match[str]) -> Response:
    job = _view_job(state, m.group("id"))
    if job is None:
        raise not_found()
    return json_response(200, {"job_status": job})
