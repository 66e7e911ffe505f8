"""Zendesk organization writes: one org or update_many (a job status), organization_fields checked."""

from __future__ import annotations

import re
from typing import Any

from sandbox.app import RouteTable
from sandbox.httpd import Request, Response, json_response
from sandbox.state import State
from sandbox.world import ORG_FIELD_KEYS
from sandbox.zd_lists import ORG_FIELD_TYPES, not_found
from sandbox.zd_shapes import with_times
from sandbox.zd_writes import bulk_update, invalid, read_json

ROUTES = RouteTable()


def _org_changes(state: State, org: dict[str, Any], attrs: dict[str, Any]) -> dict[str, Any]:
    fields = attrs.get("organization_fields") or {}
    if not isinstance(fields, dict):
        raise invalid("organization_fields must be an object")
    for key, value in fields.items():
        if key not in ORG_FIELD_KEYS:
            raise invalid(f"organization_fields: {key} is not a valid organization field")
        if ORG_FIELD_TYPES[key] == "decimal" and value is not None:
            try:
                float(value)
            except (TypeError, ValueError) as exc:
                raise invalid(f"{key}: {value!r} is not a number") from exc
    changes = {
        k: v
        for k, v in attrs.items()
        if k not in ("id", "organization_fields")
        and k in ("name", "notes", "details", "tags", "domain_names", "external_id", "group_id")
    }
    org.update(changes)
    if fields:
        org["organization_fields"] = {**org["organization_fields"], **fields}
        changes["organization_fields"] = fields
    org["updated_at"] = state.world.clock.epoch()
    state.record_write("zendesk", "org_fields", str(org["id"]), changes)
    return changes


@ROUTES.add("PUT", r"/api/v2/organizations/update_many\.json")
def orgs_update_many(state: State, req: Request, m: re.Match[str]) -> Response:
    def apply(item: dict[str, Any]) -> int:
        org = state.world.orgs.get(int(item.get("id") or 0))
        if org is None:
            raise not_found()
        _org_changes(state, org, item)
        return int(org["id"])

    return bulk_update(state, req, "organizations", "ThirdPartyOrganizationUpdate", apply)


@ROUTES.add("PUT", r"/api/v2/organizations/(?P<id>\d+)\.json")
def org_update(state: State, req: Request, m: re.Match[str]) -> Response:
    body = read_json(req)
    with state.world.lock:
        org = state.world.orgs.get(int(m.group("id")))
        if org is None:
            raise not_found()
        _org_changes(state, org, body.get("organization") or {})
        return json_response(200, {"organization": with_times(org, req.base_url, "organizations")})
