"""HubSpot CRM reads: object lists, one object, CRM search, batch read, owners, v4
associations, account details and private-app token info.

Wire facts kept: list pages take `limit` (≤ 100) and an opaque `after` (`paging.next.after`),
`properties` and `associations` as comma lists, and leave archived objects out unless
`archived=true`; search (`POST .../search`) takes `filterGroups` (OR of AND-ed filters),
one sort, `limit` ≤ 200 and `after` (an offset), and answers `total` and `paging.next.after`;
a request whose `after + limit` passes the 10,000-result window is a 400; search never
returns archived objects nor associations. Batch read takes ≤ 100 inputs; ids not found are
a 207 with `errors`.
"""

from __future__ import annotations

import re
from typing import Any

from sandbox import hubspot_store as store
from sandbox.app import BadRequest, RouteTable
from sandbox.httpd import Request, Response, json_response
from sandbox.hubspot_store import DATETIME_PROPERTIES, HubSpotState, to_ms
from sandbox.state import State

ROUTES = RouteTable()
OBJECT = r"(?P<kind>companies|deals|contacts|tasks)"
NUMERIC = frozenset({"hs_object_id", "amount", "arr", "numberofemployees", "hubspot_owner_id"})
OPERATORS = frozenset(
    {"EQ", "NEQ", "LT", "LTE", "GT", "GTE", "IN", "NOT_IN", "HAS_PROPERTY", "NOT_HAS_PROPERTY"}
)
PORTAL_ID = 24_681_357


def invalid(message: str) -> BadRequest:
    return BadRequest(400, "VALIDATION_ERROR", message)


def hs_of(state: State) -> HubSpotState:
    return state.hubspot


def _int(value: Any, name: str, default: int, most: int) -> int:
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
    limit = _int(req.query.get("limit"), "limit", 10, 100)
    after = req.query.get("after")
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


def _comparable(prop: str, value: Any) -> Any:
    if value is None:
        return None
    if prop in DATETIME_PROPERTIES:
        return to_ms(value)
    if prop in NUMERIC:
        try:
            return float(value)
        except ValueError:
            raise invalid(f"{value!r} is not a number for property {prop}") from None
    return str(value).lower()


def _passes(obj: dict[str, Any], f: dict[str, Any]) -> bool:
    prop, op = f.get("propertyName"), f.get("operator", "EQ")
    if not prop or op not in OPERATORS:
        raise invalid(f"filter needs propertyName and one of {sorted(OPERATORS)}: {f}")
    have = _comparable(prop, obj["properties"].get(prop))
    if op in ("HAS_PROPERTY", "NOT_HAS_PROPERTY"):
        return (have is not None) == (op == "HAS_PROPERTY")
    if op in ("IN", "NOT_IN"):
        values = {_comparable(prop, v) for v in f.get("values") or []}
        return (have in values) == (op == "IN")
    want = _comparable(prop, f.get("value"))
    if have is None or want is None:
        return op == "NEQ" and have != want
    return {
        "EQ": have == want,
        "NEQ": have != want,
        "LT": have < want,
        "LTE": have <= want,
        "GT": have > want,
        "GTE": have >= want,
    }[op]


@ROUTES.add("POST", rf"/crm/v3/objects/{OBJECT}/search")
def search(state: State, req: Request, m: re.Match[str]) -> Response:
    hs = hs_of(state)
    body = req.json() or {}
    groups = body.get("filterGroups") or []
    if len(groups) > 5 or any(len(g.get("filters") or []) > 6 for g in groups):
        raise invalid("at most 5 filterGroups of at most 6 filters each")
    sorts = body.get("sorts") or []
    if len(sorts) > 1:
        raise invalid("a search accepts one sort")
    limit = _int(body.get("limit"), "limit", 10, 200)
    after = _int(body.get("after"), "after", 0, 10**9)
    if after + limit > hs.search_window:
        raise invalid(
            f"Search results are limited to {hs.search_window} per query: after={after} with "
            f"limit={limit} pages past it. Narrow the filters and start a new search."
        )
    with state.world.lock:
        found = [
            o
            for o in store.objects(state.world, hs, m["kind"])
            if not o["archived"]
            and (not groups or any(all(_passes(o, f) for f in g["filters"]) for g in groups))
        ]
        if sorts:
            prop = sorts[0].get("propertyName", "hs_object_id")
            low = sorts[0].get("direction", "ASCENDING") == "ASCENDING"
            found.sort(key=lambda o: int(o["id"]), reverse=not low)  # ties: by id
            found.sort(key=lambda o: _sort_key(prop, o), reverse=not low)
        page = found[after : after + limit]
        result: dict[str, Any] = {
            "total": len(found),
            "results": [shape(o, body.get("properties")) for o in page],
        }
    if after + limit < len(found):
        result["paging"] = {"next": {"after": str(after + limit)}}
    return json_response(200, result)


def _sort_key(prop: str, obj: dict[str, Any]) -> tuple[int, Any]:
    value = _comparable(prop, obj["properties"].get(prop))
    return (1, 0) if value is None else (0, value)


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
    limit = _int(req.query.get("limit"), "limit", 100, 500)
    after = req.query.get("after")
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
