"""Salesforce REST write endpoints: sObject Collections, single-record create/update/delete, upsert.

Simplified: validation covers unknown and read-only fields, value types, restricted picklists,
required fields and injected per-record errors; no triggers, validation rules or duplicate rules.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from sandbox.app import BadRequest, RouteTable
from sandbox.formats import id18
from sandbox.httpd import Request, Response, json_response
from sandbox.sf_records import (
    ROLLED_BACK,
    RecordError,
    apply_create,
    apply_update,
    check_create,
    check_update,
    delete,
    err,
)
from sandbox.sf_schema import BY_NAME, canonical_object
from sandbox.state import State

V = r"/services/data/v(?P<v>\d+\.\d)"
MAX_RECORDS = 200
# (operation, sObject, record id, converted values, submitted record, errors)
Planned = tuple[str, str | None, str | None, dict[str, Any], dict[str, Any], list[dict[str, Any]]]


ROUTES = RouteTable()


def _body(req: Request) -> Any:
    try:
        return req.json()
    except ValueError as exc:
        raise BadRequest(400, "JSON_PARSER_ERROR", f"Unexpected character: {exc}") from exc


def _collection(req: Request) -> tuple[bool, list[dict[str, Any]]]:
    body = _body(req)
    if not isinstance(body, dict) or not isinstance(body.get("records"), list):
        raise BadRequest(400, "JSON_PARSER_ERROR", "Cannot deserialize instance of records")
    records = body["records"]
    if len(records) > MAX_RECORDS:
        raise BadRequest(
            400,
            "EXCEEDED_ID_LIMIT",
            "record limit reached. cannot submit more than 200 records into this call",
        )
    return bool(body.get("allOrNone", False)), records


def _type_of(record: Any) -> str | None:
    if not isinstance(record, dict):
        return None
    attrs = record.get("attributes")
    return canonical_object(attrs.get("type", "")) if isinstance(attrs, dict) else None


def _finish(
    state: State, all_or_none: bool, planned: list[Planned], created: bool = False
) -> list[dict[str, Any]]:
    """Apply (or roll back) a validated batch; results in request order."""
    failed = any(errors for *_, errors in planned)
    results = []
    for op, obj, rid, values, submitted, errors in planned:
        if errors:
            results.append(
                {"id": rid, "success": False, "errors": errors}
                if rid
                else {"success": False, "errors": errors}
            )
        elif all_or_none and failed:
            results.append(
                {"id": rid, "success": False, "errors": [dict(ROLLED_BACK)]}
                if rid
                else {"success": False, "errors": [dict(ROLLED_BACK)]}
            )
        elif obj is None:
            raise AssertionError("a record without a type always has errors")
        elif op == "update" and rid is not None:
            apply_update(state, obj, rid, values, submitted)
            results.append(
                {"id": rid, "success": True, "errors": []} | ({"created": False} if created else {})
            )
        else:
            new_id = apply_create(state, obj, values, submitted)
            results.append(
                {"id": new_id, "success": True, "errors": []}
                | ({"created": True} if created else {})
            )
    return results


def _no_type() -> RecordError:
    return err("INVALID_TYPE", "sObject type required in attributes")


def _refused(
    action: str, obj: str | None, rid: str | None, rec: dict[str, Any], error: RecordError
) -> Planned:
    """A collection record refused before any change: planned with its one error."""
    return (action, obj, rid, {}, rec, [error])


def _collection_write(
    state: State, req: Request, plan: Callable[[dict[str, Any]], Planned], *, created: bool = False
) -> Response:
    """An sObject Collections write: plan every record under the world lock, then apply them."""
    all_or_none, records = _collection(req)
    state.faults.begin_write()
    with state.world.lock:
        planned = [plan(rec) for rec in records]
        return json_response(200, _finish(state, all_or_none, planned, created=created))


@ROUTES.add("PATCH", rf"{V}/composite/sobjects/?")
def collection_update(state: State, req: Request, m: re.Match[str]) -> Response:
    def plan(rec: dict[str, Any]) -> Planned:
        obj = _type_of(rec)
        rid = id18(str(rec.get("id") or rec.get("Id") or "")) if isinstance(rec, dict) else ""
        if obj is None:
            return _refused("update", None, rid, {}, _no_type())
        values, errors = check_update(state, obj, rid, rec)
        return ("update", obj, rid, values, rec, errors)

    return _collection_write(state, req, plan)


@ROUTES.add("POST", rf"{V}/composite/sobjects/?")
def collection_create(state: State, req: Request, m: re.Match[str]) -> Response:
    def plan(rec: dict[str, Any]) -> Planned:
        obj = _type_of(rec)
        if obj is None:
            return _refused("create", None, None, {}, _no_type())
        if rec.get("id"):
            no_id = err("INVALID_FIELD", "cannot specify Id in an insert call", ["Id"])
            return _refused("create", obj, None, rec, no_id)
        values, errors = check_create(state, obj, rec)
        return ("create", obj, None, values, rec, errors)

    return _collection_write(state, req, plan)


def _match_external(state: State, obj: str, field: str, value: Any) -> list[str]:
    f = BY_NAME[obj].get(field.lower())
    if f is None or f.type not in ("id", "string", "email"):
        raise BadRequest(
            400, "INVALID_FIELD", f"Field {field} is not an External ID or indexed field for {obj}"
        )
    return [
        r["Id"]
        for r in state.world.sf[obj].values()
        if not r["IsDeleted"] and value is not None and str(r.get(f.name)) == str(value)
    ]


@ROUTES.add("PATCH", rf"{V}/composite/sobjects/(?P<obj>\w+)/(?P<field>\w+)/?")
def collection_upsert(state: State, req: Request, m: re.Match[str]) -> Response:
    obj, field = _object_of(m), m.group("field")

    def plan(rec: dict[str, Any]) -> Planned:
        key = next((k for k in rec if k.lower() == field.lower()), None)
        found = _match_external(state, obj, field, rec.get(key) if key else None)
        if len(found) > 1:
            message = f"{field}: more than one record found for external id field: {found}"
            return _refused("update", obj, None, rec, err("DUPLICATE_EXTERNAL_ID", message))
        if found:
            values, errors = check_update(state, obj, found[0], rec)
            return ("update", obj, found[0], values, rec, errors)
        values, errors = check_create(state, obj, rec)
        return ("create", obj, None, values, rec, errors)

    return _collection_write(state, req, plan, created=True)


def _not_found() -> BadRequest:
    return BadRequest(404, "NOT_FOUND", "The requested resource does not exist")


def _object_of(m: re.Match[str]) -> str:
    """The sObject a URL names, in its canonical spelling; 404 for one the sandbox lacks."""
    obj = canonical_object(m.group("obj"))
    if obj is None:
        raise _not_found()
    return obj


def _single_errors(errors: list[dict[str, Any]]) -> Response:
    return json_response(
        400,
        [
            {"message": e["message"], "errorCode": e["statusCode"], "fields": e["fields"]}
            for e in errors
        ],
    )


@ROUTES.add("POST", rf"{V}/sobjects/(?P<obj>\w+)/?")
def create_one(state: State, req: Request, m: re.Match[str]) -> Response:
    obj = _object_of(m)
    body = _body(req) or {}
    with state.world.lock:
        values, errors = check_create(state, obj, body)
        if errors:
            return _single_errors(errors)
        rid = apply_create(state, obj, values, body)
    return json_response(201, {"id": rid, "success": True, "errors": []})


@ROUTES.add("PATCH", rf"{V}/sobjects/(?P<obj>\w+)/(?P<id>\w{{15,18}})/?")
def update_one(state: State, req: Request, m: re.Match[str]) -> Response:
    obj = _object_of(m)
    body = _body(req) or {}
    state.faults.begin_write()
    with state.world.lock:
        values, errors = check_update(state, obj, id18(m.group("id")), body)
        if errors:
            if errors[0]["statusCode"] in ("INVALID_CROSS_REFERENCE_KEY", "ENTITY_IS_DELETED"):
                raise _not_found()
            return _single_errors(errors)
        apply_update(state, obj, id18(m.group("id")), values, body)
    return Response(204)


@ROUTES.add("DELETE", rf"{V}/sobjects/(?P<obj>\w+)/(?P<id>\w{{15,18}})/?")
def delete_one(state: State, req: Request, m: re.Match[str]) -> Response:
    obj = canonical_object(m.group("obj"))
    with state.world.lock:
        if obj is None or not delete(state, obj, id18(m.group("id"))):
            raise _not_found()
    return Response(204)


@ROUTES.add("PATCH", rf"{V}/sobjects/(?P<obj>\w+)/(?P<field>\w+)/(?P<value>[^/]+)/?")
def upsert_one(state: State, req: Request, m: re.Match[str]) -> Response:
    obj = _object_of(m)
    body = _body(req) or {}
    with state.world.lock:
        found = _match_external(state, obj, m.group("field"), m.group("value"))
        if len(found) > 1:
            return json_response(
                300, [f"/services/data/v{m.group('v')}/sobjects/{obj}/{i}" for i in found]
            )
        if found:
            values, errors = check_update(state, obj, found[0], body)
            if errors:
                return _single_errors(errors)
            apply_update(state, obj, found[0], values, body)
            return Response(204)
        if req.query.get("updateOnly") == "true":
            raise _not_found()
        field = BY_NAME[obj][m.group("field").lower()].name
        values, errors = check_create(state, obj, {**body, field: m.group("value")})
        if errors:
            return _single_errors(errors)
        rid = apply_create(state, obj, values, body)
    return json_response(201, {"id": rid, "success": True, "errors": [], "created": True})
