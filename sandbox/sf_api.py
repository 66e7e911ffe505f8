"""Salesforce REST read endpoints: versions, query/queryAll, describe, limits, updated/deleted, records.

Describe bodies come from `sandbox.sf_describe`. getUpdated/getDeleted enforce the 30/15-day
windows.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from sandbox.app import BadRequest, RouteTable
from sandbox.formats import id18, parse_datetime, sf_datetime
from sandbox.httpd import Request, Response, json_response
from sandbox.sf_describe import describe, describe_summary
from sandbox.sf_query import _attributes, batch_size, page, start_query
from sandbox.sf_schema import FIELDS, PREFIX, canonical_object, to_wire
from sandbox.state import State

V = r"/services/data/v(?P<v>\d+\.\d)"


ROUTES = RouteTable()


def _object(match: re.Match[str]) -> str:
    obj = canonical_object(match.group("obj"))
    if obj is None:
        raise BadRequest(404, "NOT_FOUND", "The requested resource does not exist")
    return obj


@ROUTES.add("GET", r"/services/data/?")
def versions(state: State, req: Request, m: re.Match[str]) -> Response:
    return json_response(
        200,
        [
            {"label": "Winter '24", "url": "/services/data/v59.0", "version": "59.0"},
            {"label": "Spring '24", "url": "/services/data/v60.0", "version": "60.0"},
        ],
    )


@ROUTES.add("GET", rf"{V}/queryAll/?")
@ROUTES.add("GET", rf"{V}/query/?")
def query(state: State, req: Request, m: re.Match[str]) -> Response:
    text = req.query.get("q", "")
    include_deleted = "queryAll" in req.path
    batch = batch_size(req.header("sforce-query-options"))
    return json_response(200, start_query(state, text, include_deleted, m.group("v"), batch))


@ROUTES.add("GET", rf"{V}/(?:query|queryAll)/(?P<loc>01g\w+)-(?P<off>\d+)")
def query_more(state: State, req: Request, m: re.Match[str]) -> Response:
    return json_response(200, page(state, m.group("loc"), int(m.group("off")), m.group("v")))


@ROUTES.add("GET", rf"{V}/sobjects/?")
def sobjects(state: State, req: Request, m: re.Match[str]) -> Response:
    items = [describe_summary(obj, m.group("v")) for obj in FIELDS]
    return json_response(200, {"encoding": "UTF-8", "maxBatchSize": 200, "sobjects": items})


@ROUTES.add("GET", rf"{V}/sobjects/(?P<obj>\w+)/describe/?")
def describe_object(state: State, req: Request, m: re.Match[str]) -> Response:
    return json_response(200, describe(_object(m), m.group("v")))


@ROUTES.add("GET", rf"{V}/sobjects/(?P<obj>\w+)/?")
def sobject_info(state: State, req: Request, m: re.Match[str]) -> Response:
    info = describe_summary(_object(m), m.group("v"))
    return json_response(200, {"objectDescribe": info, "recentItems": []})


@ROUTES.add("GET", rf"{V}/limits/?")
def limits(state: State, req: Request, m: re.Match[str]) -> Response:
    lim = state.limits
    return json_response(
        200,
        {
            "DailyApiRequests": {
                "Max": lim.sf_daily,
                "Remaining": max(0, lim.sf_daily - lim.sf_used),
            },
            "DailyBulkV2QueryJobs": {"Max": 10000, "Remaining": 10000},
            "DataStorageMB": {"Max": 1024, "Remaining": 1000},
            "ConcurrentAsyncGetReportInstances": {"Max": 200, "Remaining": 200},
        },
    )


def _range(req: Request) -> tuple[dt.datetime, dt.datetime]:
    try:
        start = parse_datetime(req.query.get("start", "").replace(" ", "+"))
        end = parse_datetime(req.query.get("end", "").replace(" ", "+"))
    except ValueError as exc:
        raise BadRequest(400, "INVALID_PARAMETER_VALUE", f"invalid date: {exc}") from exc
    if end < start:
        raise BadRequest(400, "INVALID_REPLICATION_DATE", "endDate before startDate")
    return start, end


@ROUTES.add("GET", rf"{V}/sobjects/(?P<obj>\w+)/updated/?")
def updated(state: State, req: Request, m: re.Match[str]) -> Response:
    obj = _object(m)
    start, end = _range(req)
    now = state.world.clock.now()
    if start < now - dt.timedelta(days=30):
        raise BadRequest(
            400, "INVALID_REPLICATION_DATE", "startDate cannot be more than 30 days ago"
        )
    with state.world.lock:
        ids = [
            r["Id"]
            for r in state.world.sf[obj].values()
            if not r.get("IsDeleted")
            and isinstance(r.get("SystemModstamp"), dt.datetime)
            and start <= r["SystemModstamp"] <= end
        ]
    return json_response(200, {"ids": ids, "latestDateCovered": sf_datetime(min(end, now))})


@ROUTES.add("GET", rf"{V}/sobjects/(?P<obj>\w+)/deleted/?")
def deleted(state: State, req: Request, m: re.Match[str]) -> Response:
    obj = _object(m)
    start, end = _range(req)
    now = state.world.clock.now()
    earliest = now - dt.timedelta(days=15)
    if start < earliest:
        raise BadRequest(
            400, "INVALID_REPLICATION_DATE", "startDate cannot be more than 15 days ago"
        )
    with state.world.lock:
        rows = [
            {"id": i, "deletedDate": sf_datetime(d)}
            for i, d in state.world.sf_deleted[obj].items()
            if start <= d <= end
        ]
    return json_response(
        200,
        {
            "deletedRecords": rows,
            "earliestDateAvailable": sf_datetime(earliest),
            "latestDateCovered": sf_datetime(min(end, now)),
        },
    )


def render_record(
    obj: str, record: dict[str, Any], version: str, only: list[str] | None
) -> dict[str, Any]:
    """A full record as `GET sobjects/<obj>/<id>` returns it."""
    out: dict[str, Any] = {"attributes": _attributes(obj, record["Id"], version)}
    wanted = {n.lower() for n in only} if only else None
    for f in FIELDS[obj]:
        if wanted is None or f.name.lower() in wanted:
            out[f.name] = to_wire(f, record.get(f.name))
    return out


@ROUTES.add("GET", rf"{V}/sobjects/(?P<obj>\w+)/(?P<id>\w{{15,18}})")
def get_record(state: State, req: Request, m: re.Match[str]) -> Response:
    obj = _object(m)
    record = state.world.sf[obj].get(id18(m.group("id")))
    if record is None or record.get("IsDeleted") or not m.group("id").startswith(PREFIX[obj]):
        raise BadRequest(404, "NOT_FOUND", "The requested resource does not exist")
    only = req.query.get("fields")
    return json_response(
        200, render_record(obj, record, m.group("v"), only.split(",") if only else None)
    )
