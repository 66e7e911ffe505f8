"""HubSpot CRM reads: object lists, one object, batch read, owners, v4 associations, account
details and private-app token info (search: `sandbox.hubspot_search`).

Wire facts kept: list pages take `limit` (≤ 100) and an opaque `after` (`paging.next.after`),
`properties` and `associations` as comma lists, and leave archived objects out unless
`archived=true`. Batch read takes ≤ 100 inputs; ids not found are
a 207 with `errors`.
"""

from __future__ import annotations

import re
from typing import Any

from sandbox import hubspot_store as store
from sandbox.app import BadRequest, RouteTable
from sandbox.httpd import Request, Response, json_response
from sandbox.hubspot_store import HubSpotState
from sandbox.state import State

ROUTES = RouteTable()
OBJECT = r"(?P<kind>companies|deals|contacts|tasks)"
PORTAL_ID = 24_681_357


def invalid(message: str) -> BadRequest:
    return BadRequest(400, "VALIDATION_ERROR", message)


def hs_of(state: State) -> HubSpotState:
    return state.hubspot


def int_param(value: Any, name: str, default: int, most: int) -> int:
    if value in (None, ""):
        return default
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise invalid(f"{name} must be an integer, got {value!r}") from None
    if not 0 <= number <= most if name == "after" else not 1 <= number <= most:
        raise invalid(f"{name} must be between {0 if name == 'after' else 1} and {most}")
    return number


def shape(
    obj: dict[str, Any],
    properties: list[str] | None,
    assoc: list[str] | None = None,
    *,
    state: State | None = None,
    kind: str = "",
) -> dict[str, Any]:
    """The object as sent: the asked-for properties (default ones when none), associations."""
    wanted = properties or ["hs_object_id", "createdate", "hs_lastmodifieddate"]
    props = {p: obj["properties"].get(p) for p in wanted}
    out = {k: v for k, v in obj.items() if not k.startswith("_")} | {"properties": props}
    if assoc and state is not None and "companies" in assoc:
        ids = store.associations(state.world, hs_of(state), kind, obj["id"])
        out["associations"] = {
            "companies": {"results": [{"id": i, "type": f"{kind[:-1]}_to_company"} for i in ids]}
        }
    return out


def _csv(value: str | None) -> list[str] | None:
    return [v for v in value.split(",") if v] if value else None


@ROUTES.add("GET", rf"/crm/v3/objects/{OBJECT}")
def list_objects(state: State, req: Request, m: re.Match[str]) -> Response:
    kind = m["kind"]
    limit = int_param(req.query.get("limit"), "limit", 10, 100)
    after = req.query.get("after")
    if after and not after.isdigit():
        raise invalid(f"after must be the paging.next.after of an earlier page, got {after!r}")
    archived = req.query.get("archived", "false") == "true"
    with state.world.lock:
        rows = [
            o
            for o in store.objects(state.world, hs_of(state), kind)
            if o["archived"] == archived and (not after or int(o["id"]) > int(after))
        ]
        page = rows[:limit]
        props, assoc = _csv(req.query.get("properties")), _csv(req.query.get("associations"))
        body: dict[str, Any] = {
            "results": [shape(o, props, assoc, state=state, kind=kind) for o in page]
        }
    if len(rows) > limit:
        last = page[-1]["id"]
        body["paging"] = {"next": {"after": last, "link": f"?after={last}"}}
    return json_response(200, body)


@ROUTES.add("GET", rf"/crm/v3/objects/{OBJECT}/(?P<id>\d+)")
def get_object(state: State, req: Request, m: re.Match[str]) -> Response:
    with state.world.lock:
        obj = store.find(state.world, hs_of(state), m["kind"], m["id"])
        if obj is None:
            return json_response(
                404,
                {
                    "status": "error",
                    "message": "resource not found",
                    "category": "OBJECT_NOT_FOUND",
                    "correlationId": "sb",
                },
            )
        props = _csv(req.query.get("properties"))
        assoc = _csv(req.query.get("associations"))
        return json_response(200, shape(obj, props, assoc, state=state, kind=m["kind"]))


@ROUTES.add("POST", rf"/crm/v3/objects/{OBJECT}/batch/read")
def batch_read(state: State, req: Request, m: re.Match[str]) -> Response:
    body = req.json() or {}
    inputs = body.get("inputs") or []
    if not 1 <= len(inputs) <= 100:
        raise invalid("batch inputs must number between 1 and 100")
    found, missing = [], []
    with state.world.lock:
        for item in inputs:
            obj = store.find(state.world, hs_of(state), m["kind"], str(item.get("id")))
            if obj is None:
                missing.append(str(item.get("id")))
            else:
                found.append(shape(obj, body.get("properties")))
    out: dict[str, Any] = {"status": "COMPLETE", "results": found}
    if missing:
        out |= {"numErrors": 1, "errors": [not_found(m["kind"], missing, "get")]}
    return json_response(207 if missing else 200, out)


def not_found(kind: str, ids: list[str], verb: str) -> dict[str, Any]:
    name = kind[:-1].upper().replace("COMPANIE", "COMPANY")
    return {
        "status": "error",
        "category": "OBJECT_NOT_FOUND",
        "message": f"Could not {verb} some {name} objects, they may be deleted or not exist. "
        "Check that ids are valid.",
        "context": {"ids": ids},
    }


@ROUTES.add("GET", r"/crm/v3/owners/?")
def owners(state: State, req: Request, m: re.Match[str]) -> Response:
    limit = int_param(req.query.get("limit"), "limit", 100, 500)
    after = req.query.get("after")
    if after and not after.isdigit():
        raise invalid(f"after must be the paging.next.after of an earlier page, got {after!r}")
    archived = req.query.get("archived", "false") == "true"
    with state.world.lock:
        rows = [
            o
            for o in store.owner_objects(state.world, hs_of(state))
            if o["archived"] == archived and (not after or int(o["id"]) > int(after))
        ]
    body: dict[str, Any] = {"results": rows[:limit]}
    if len(rows) > limit:
        body["paging"] = {"next": {"after": rows[limit - 1]["id"]}}
    return json_response(200, body)


TYPE_IDS = {"deals": 5, "contacts": 1, "tasks": 192}  # primary association to a company


@ROUTES.add("POST", rf"/crm/v4/associations/{OBJECT}/companies/batch/read")
def association_read(state: State, req: Request, m: re.Match[str]) -> Response:
    inputs = (req.json() or {}).get("inputs") or []
    if not 1 <= len(inputs) <= 1000:
        raise invalid("association batch inputs must number between 1 and 1000")
    results, empty = [], []
    with state.world.lock:
        for item in inputs:
            oid = str(item.get("id"))
            ids = store.associations(state.world, hs_of(state), m["kind"], oid)
            if not ids:
                empty.append(oid)
                continue
            types = [
                {
                    "category": "HUBSPOT_DEFINED",
                    "typeId": TYPE_IDS.get(m["kind"], 0),
                    "label": "Primary",
                }
            ]
            results.append(
                {
                    "from": {"id": oid},
                    "to": [{"toObjectId": int(i), "associationTypes": types} for i in ids],
                }
            )
    out: dict[str, Any] = {"status": "COMPLETE", "results": results}
    if empty:
        out["errors"] = [
            {
                "status": "error",
                "category": "OBJECT_NOT_FOUND",
                "subCategory": "crm.associations.NO_ASSOCIATIONS_FOUND",
                "message": f"No companies is associated with {m['kind'][:-1]} {i}.",
                "context": {"fromObjectId": [i]},
            }
            for i in empty
        ]
        out["numErrors"] = len(empty)
    return json_response(207 if empty else 200, out)


@ROUTES.add("GET", r"/account-info/v3/details")
def account_details(state: State, req: Request, m: re.Match[str]) -> Response:
    return json_response(
        200,
        {
            "portalId": PORTAL_ID,
            "accountType": "STANDARD",
            "timeZone": "US/Eastern",
            "companyCurrency": "USD",
            "uiDomain": "app.hubspot.com",
            "dataHostingLocation": "na1",
        },
    )


@ROUTES.add("GET", r"/account-info/v3/api-usage/daily/private-apps")
def daily_usage(state: State, req: Request, m: re.Match[str]) -> Response:
    limits = hs_of(state).limits
    return json_response(
        200,
        {
            "results": [
                {
                    "name": "private-apps-api-calls-daily",
                    "usageLimit": limits.daily,
                    "currentUsage": limits.daily_used,
                    "fetchStatus": "SUCCESS",
                }
            ]
        },
    )


@ROUTES.add("POST", r"/oauth/v2/private-apps/get/access-token-info")
def token_info(state: State, req: Request, m: re.Match[str]) -> Response:
    return json_response(
        200,
        {
            "hubId": PORTAL_ID,
            "appId": 3_100_200,
            "userId": 7_100_001,
            "scopes": [
                "crm.objects.companies.read",
                "crm.objects.companies.write",
                "crm.objects.deals.read",
                "crm.objects.contacts.read",
                "crm.objects.owners.read",
                "crm.objects.tasks.write",
            ],
        },
    )
