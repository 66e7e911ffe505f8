"""HubSpot CRM writes: batch update of company properties, batch create of tasks.

Wire facts kept: ≤ 100 inputs a call; a property the portal does not have fails the whole
batch (400, VALIDATION_ERROR); inputs whose object is gone (deleted or archived) fail alone:
the others are applied and the answer is a 207 Multi-Status with `errors`, each naming its
ids in `context` (`Faults.record_errors` injects such per-record errors). Batch create answers 201 with the created objects — in no promised order,
so a client matches them by what it sent, not by position. HubSpot has no idempotency key:
a retried create makes a second task unless the client checks first.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from sandbox import hubspot_store as store
from sandbox.app import RouteTable
from sandbox.httpd import Request, Response, json_response
from sandbox.hubspot_api import hs_of, invalid, not_found
from sandbox.hubspot_store import HEALTH_PROPERTIES, TASK_PROPERTIES, hs_datetime
from sandbox.state import State

ROUTES = RouteTable()
WRITABLE = {"companies": HEALTH_PROPERTIES}
TASK_TO_COMPANY = 192


def _inputs(req: Request) -> list[dict[str, Any]]:
    inputs = (req.json() or {}).get("inputs")
    if not isinstance(inputs, list) or not 1 <= len(inputs) <= 100:
        raise invalid("batch inputs must be a list of between 1 and 100 items")
    return inputs


def _text(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


@ROUTES.add("POST", r"/crm/v3/objects/(?P<kind>companies)/batch/update")
def batch_update(state: State, req: Request, m: re.Match[str]) -> Response:
    kind, hs = m["kind"], hs_of(state)
    inputs = _inputs(req)
    for item in inputs:
        unknown = sorted(set(item.get("properties") or {}) - WRITABLE[kind])
        if unknown:
            raise invalid(
                f'Property values were not valid: property "{unknown[0]}" does not exist '
                f"(writable here: {', '.join(sorted(WRITABLE[kind]))})"
            )
    results, missing = [], []
    refused: dict[tuple[str, str], list[str]] = {}  # injected (category, message) -> ids
    state.faults.begin_write()
    with state.world.lock:
        now = state.world.clock.now()
        for item in inputs:
            oid = str(item.get("id"))
            if store.find(state.world, hs, kind, oid) is None:
                missing.append(oid)
                continue
            if injected := state.faults.record_error(oid):
                refused.setdefault(injected, []).append(oid)
                continue
            props = {k: _text(v) for k, v in (item.get("properties") or {}).items()}
            held = hs.written.setdefault((kind, oid), {})
            changes = {k: v for k, v in props.items() if held.get(k) != v}
            held.update(props)
            hs.modified[(kind, oid)] = now
            state.record_write("hubspot", "company_properties", oid, changes)
            obj = store.find(state.world, hs, kind, oid)
            assert obj is not None
            results.append({k: v for k, v in obj.items() if not k.startswith("_")})
    errors = [not_found(kind, missing, "update")] if missing else []
    errors += [
        {"status": "error", "category": category, "message": message, "context": {"ids": ids}}
        for (category, message), ids in refused.items()
    ]
    out: dict[str, Any] = {"status": "COMPLETE", "results": results}
    if errors:
        out |= {"numErrors": len(errors), "errors": errors}
    return json_response(207 if errors else 200, out)


@ROUTES.add("POST", r"/crm/v3/objects/tasks/batch/create")
def create_tasks(state: State, req: Request, m: re.Match[str]) -> Response:
    hs = hs_of(state)
    inputs = _inputs(req)
    for item in inputs:
        unknown = sorted(set(item.get("properties") or {}) - TASK_PROPERTIES)
        if unknown:
            raise invalid(f'Property values were not valid: property "{unknown[0]}" does not exist')
    created, errors = [], []
    with state.world.lock:
        owners = {o["id"] for o in store.owner_objects(state.world, hs)}
        now = state.world.clock.now()
        for item in inputs:
            props = {k: _text(v) for k, v in (item.get("properties") or {}).items()}
            companies = [
                str(a.get("to", {}).get("id"))
                for a in item.get("associations") or []
                if any(t.get("associationTypeId") == TASK_TO_COMPANY for t in a.get("types", []))
            ]
            problem = _task_problem(state, props, companies, owners)
            if problem:
                errors.append(problem)
                continue
            tid = str(store.ID_BASE["tasks"] + state.world.next_number("hubspot_task", 1))
            stamp = hs_datetime(now)
            task = {
                "id": tid,
                "properties": {
                    "hs_task_status": "NOT_STARTED",
                    "hs_task_type": "TODO",
                    **props,
                    "hs_object_id": tid,
                    "createdate": stamp,
                    "hs_lastmodifieddate": stamp,
                },
                "createdAt": stamp,
                "updatedAt": stamp,
                "archived": False,
                "_companies": companies,
            }
            hs.tasks[tid] = task
            state.record_write("hubspot", "task_created", tid, props | {"companies": companies})
            created.append({k: v for k, v in task.items() if not k.startswith("_")})
    out: dict[str, Any] = {
        "status": "COMPLETE",
        "results": created[::-1],  # HubSpot promises no order: never the input's here
        "startedAt": hs_datetime(now),
        "completedAt": hs_datetime(dt.datetime.now(dt.UTC)),
    }
    if errors:
        out |= {"numErrors": len(errors), "errors": errors}
    return json_response(207 if errors else 201, out)


def _task_problem(
    state: State, props: dict[str, str | None], companies: list[str], owners: set[str]
) -> dict[str, Any] | None:
    """Why one task input cannot be created (None: it can)."""
    owner = props.get("hubspot_owner_id")
    if owner is not None and owner not in owners:
        return {
            "status": "error",
            "category": "VALIDATION_ERROR",
            "message": f'{owner} is not a valid owner id for property "hubspot_owner_id"',
            "context": {"pulsehub_task_key": [props.get("pulsehub_task_key")]},
        }
    gone = [c for c in companies if store.find(state.world, hs_of(state), "companies", c) is None]
    if gone:
        return {
            "status": "error",
            "category": "VALIDATION_ERROR",
            "message": f"association target COMPANY {gone[0]} does not exist",
            "context": {"pulsehub_task_key": [props.get("pulsehub_task_key")]},
        }
    if not props.get("hs_timestamp"):
        return {
            "status": "error",
            "category": "VALIDATION_ERROR",
            "message": 'Property "hs_timestamp" is required',
            "context": {"pulsehub_task_key": [props.get("pulsehub_task_key")]},
        }
    return None
