"""Salesforce Bulk API 2.0 query jobs: create, poll, CSV result pages with Sforce-Locator.

Jobs run at creation (an id snapshot, like `query`) and report `UploadComplete` then
`JobComplete` on the first poll. OFFSET and aggregate functions are rejected as Bulk 2.0 does;
ingest jobs are not simulated (writes go through sObject Collections).
"""

from __future__ import annotations

import base64
import csv
import datetime as dt
import io
import json
import re
from typing import Any

from sandbox.app import BadRequest, RouteTable
from sandbox.formats import UTC, sf_datetime
from sandbox.httpd import Request, Response, json_response
from sandbox.sf_query import Plan
from sandbox.soql import SoqlError
from sandbox.soql_parser import parse
from sandbox.state import State

V = r"/services/data/v(?P<v>\d+\.\d)"


ROUTES = RouteTable()


def _csv_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _info(job: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in job.items() if not k.startswith("_")}


@ROUTES.add("POST", rf"{V}/jobs/query/?")
def create(state: State, req: Request, m: re.Match[str]) -> Response:
    try:
        body = req.json() or {}
    except ValueError as exc:
        raise BadRequest(400, "JSON_PARSER_ERROR", "body is not JSON") from exc
    operation = body.get("operation")
    if operation not in ("query", "queryAll"):
        raise BadRequest(400, "INVALIDJOB", f"Invalid operation: {operation}")
    try:
        query = parse(str(body.get("query", "")), state.world.clock.today())
    except SoqlError as exc:
        raise BadRequest(400, exc.code, str(exc)) from exc
    if query.count_only or query.offset:
        raise BadRequest(
            400, "INVALIDJOB", "Bulk API 2.0 does not support OFFSET or aggregate queries"
        )
    with state.world.lock:
        plan = Plan(state, query)
        ids = plan.run(operation == "queryAll")
    now = sf_datetime(state.world.clock.now())
    number = len(state.bulk_jobs) + 1
    job_id = f"750SB{number:013d}"
    job = {
        "id": job_id,
        "operation": operation,
        "object": plan.obj,
        "createdById": "005Dn0000000000G4AAI",
        "createdDate": now,
        "systemModstamp": now,
        "state": "UploadComplete",
        "concurrencyMode": "Parallel",
        "contentType": "CSV",
        "apiVersion": float(m.group("v")),
        "lineEnding": body.get("lineEnding", "LF"),
        "columnDelimiter": body.get("columnDelimiter", "COMMA"),
        "_plan": plan,
        "_ids": ids,
    }
    state.bulk_jobs[job_id] = job
    return json_response(200, _info(job))


def _job(state: State, m: re.Match[str]) -> dict[str, Any]:
    job = state.bulk_jobs.get(m.group("id"))
    if job is None:
        raise BadRequest(404, "NOT_FOUND", "The requested resource does not exist")
    return job


@ROUTES.add("GET", rf"{V}/jobs/query/(?P<id>750\w+)/?")
def get(state: State, req: Request, m: re.Match[str]) -> Response:
    job = _job(state, m)
    if job["state"] == "UploadComplete":
        job.update(
            state="JobComplete",
            numberRecordsProcessed=len(job["_ids"]),
            retries=0,
            totalProcessingTime=len(job["_ids"]) // 50 + 20,
        )
        return json_response(200, {**_info(job), "state": "InProgress"})
    return json_response(200, _info(job))


@ROUTES.add("DELETE", rf"{V}/jobs/query/(?P<id>750\w+)/?")
@ROUTES.add("PATCH", rf"{V}/jobs/query/(?P<id>750\w+)/?")
def change(state: State, req: Request, m: re.Match[str]) -> Response:
    job = _job(state, m)
    if req.method == "DELETE":
        del state.bulk_jobs[job["id"]]
        return Response(204)
    if (json.loads(req.body or b"{}")).get("state") != "Aborted":
        raise BadRequest(400, "INVALIDJOB", "only state Aborted can be set on a query job")
    job["state"] = "Aborted"
    return json_response(200, _info(job))


@ROUTES.add("GET", rf"{V}/jobs/query/(?P<id>750\w+)/results/?")
def results(state: State, req: Request, m: re.Match[str]) -> Response:
    job = _job(state, m)
    if job["state"] != "JobComplete":
        raise BadRequest(400, "INVALIDJOB", f"job is not complete: {job['state']}")
    try:
        limit = max(1, int(req.query.get("maxRecords", 50_000)))
        start = int(base64.urlsafe_b64decode(req.query.get("locator", "") + "==").decode() or 0)
    except ValueError as exc:
        raise BadRequest(400, "INVALIDLOCATOR", "invalid locator or maxRecords") from exc
    plan: Plan = job["_plan"]
    chunk = job["_ids"][start : start + limit]
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\n")
    writer.writerow([path for path, *_ in plan.columns])
    table = state.world.sf[plan.obj]
    with state.world.lock:
        for rid in chunk:
            record = table.get(rid)
            if record is not None:
                writer.writerow([_csv_value(plan.value(record, p)) for p, *_ in plan.columns])
    end = start + len(chunk)
    locator = base64.urlsafe_b64encode(str(end).encode()).decode().rstrip("=")
    headers = {
        "Content-Type": "text/csv",
        "Sforce-Locator": locator if end < len(job["_ids"]) else "null",
        "Sforce-NumberOfRecords": str(len(chunk)),
    }
    return Response(200, out.getvalue().encode(), headers)
