"""HubSpot CRM search: `POST /crm/v3/objects/{type}/search`.

Wire facts kept: `filterGroups` are OR-ed, the filters in a group AND-ed (at most 5 groups of
6); operators EQ, NEQ, LT(E), GT(E), IN / NOT_IN (`values`), (NOT_)HAS_PROPERTY; datetime
values as epoch milliseconds or ISO text; one sort; `limit` ≤ 200; `after` is an offset, and
a request whose `after + limit` passes the 10,000-result window (`HubSpotState.search_window`)
is a 400; answers carry `total` and `paging.next.after`, never archived objects nor
associations. Ties of the sort come back in id order (HubSpot promises no tie order).
"""

from __future__ import annotations

import re
from typing import Any

from sandbox import hubspot_store as store
from sandbox.app import RouteTable
from sandbox.httpd import Request, Response, json_response
from sandbox.hubspot_api import OBJECT, hs_of, int_param, invalid, shape
from sandbox.hubspot_store import DATETIME_PROPERTIES, to_ms
from sandbox.state import State

ROUTES = RouteTable()
NUMERIC = frozenset({"hs_object_id", "amount", "arr", "numberofemployees", "hubspot_owner_id"})
OPERATORS = frozenset(
    {"EQ", "NEQ", "LT", "LTE", "GT", "GTE", "IN", "NOT_IN", "HAS_PROPERTY", "NOT_HAS_PROPERTY"}
)


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
    limit = int_param(body.get("limit"), "limit", 10, 200)
    after = int_param(body.get("after"), "after", 0, 10**9)
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
