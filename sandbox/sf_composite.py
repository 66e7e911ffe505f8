"""Salesforce Composite (`POST /services/data/vXX.X/composite`): several REST reads in one call.

What the REST guide says and this simulates: the whole series counts as **one** call against
the org's daily API limit; at most 25 subrequests, of which at most 5 query operations
(query, queryAll, and their next batches); each subrequest names a `referenceId` (unique
within the request) and gets its own `httpStatusCode` and `body` (an error body is the usual
list of `{errorCode, message}`); the top-level response is 200 either way. Subrequests here
are reads only (`GET` of query, queryAll and their next-batch locators, with their own
`httpHeaders` such as `Sforce-Query-Options`): the sandbox keeps no record of a subrequest
write, so one is answered 400 rather than half-simulated. `allOrNone` has nothing to roll
back for reads and is accepted. `@{ref.field}` references are not resolved.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

from sandbox.app import BadRequest, RouteTable
from sandbox.httpd import Request, Response, json_response
from sandbox.sf_query import batch_size, page, start_query
from sandbox.state import State

V = r"/services/data/v(?P<v>\d+\.\d)"
MAX_SUBREQUESTS = 25
MAX_QUERIES = 5
_QUERY = re.compile(rf"^{V}/(?P<kind>query|queryAll)/?$")
_MORE = re.compile(rf"^{V}/(?:query|queryAll)/(?P<loc>01g\w+)-(?P<off>\d+)$")

ROUTES = RouteTable()


def _subrequests(req: Request) -> list[dict[str, Any]]:
    try:
        body = req.json()
    except ValueError as exc:
        raise BadRequest(400, "JSON_PARSER_ERROR", f"the request body is not JSON: {exc}") from exc
    subs = body.get("compositeRequest") if isinstance(body, dict) else None
    if not isinstance(subs, list) or not subs or not all(isinstance(s, dict) for s in subs):
        raise BadRequest(
            400, "INVALID_INPUT", "compositeRequest must be a non-empty list of subrequests"
        )
    if len(subs) > MAX_SUBREQUESTS:
        raise BadRequest(
            400,
            "LIMIT_EXCEEDED",
            f"{len(subs)} subrequests: a composite request holds at most {MAX_SUBREQUESTS}",
        )
    queries = sum(1 for s in subs if _QUERY.match(_path(s)) or _MORE.match(_path(s)))
    if queries > MAX_QUERIES:
        raise BadRequest(
            400,
            "LIMIT_EXCEEDED",
            f"{queries} query operations: a composite request holds at most {MAX_QUERIES}",
        )
    refs = [s.get("referenceId") for s in subs]
    if any(not isinstance(r, str) or not r for r in refs) or len(set(refs)) != len(refs):
        raise BadRequest(
            400, "INVALID_INPUT", "every subrequest needs a referenceId, unique in the request"
        )
    return subs


def _path(sub: dict[str, Any]) -> str:
    return urlsplit(str(sub.get("url") or "")).path


def _run(state: State, sub: dict[str, Any]) -> tuple[int, Any]:
    """One subrequest's (status, body)."""
    url = urlsplit(str(sub.get("url") or ""))
    if str(sub.get("method", "")).upper() != "GET":
        return 400, [
            {
                "errorCode": "NOT_SUPPORTED",
                "message": "the sandbox's composite runs GET query subrequests only",
            }
        ]
    headers = {str(k).lower(): str(v) for k, v in (sub.get("httpHeaders") or {}).items()}
    try:
        if found := _QUERY.match(url.path):
            text = parse_qs(url.query).get("q", [""])[-1]
            batch = batch_size(headers.get("sforce-query-options", ""))
            include_deleted = found.group("kind") == "queryAll"
            return 200, start_query(state, text, include_deleted, found.group("v"), batch)
        if found := _MORE.match(url.path):
            return 200, page(state, found.group("loc"), int(found.group("off")), found.group("v"))
    except BadRequest as exc:
        return exc.status, [{"errorCode": exc.code, "message": exc.message}]
    return 404, [{"errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}]


@ROUTES.add("POST", rf"{V}/composite/?")
def composite(state: State, req: Request, m: re.Match[str]) -> Response:
    results = []
    for sub in _subrequests(req):
        status, body = _run(state, sub)
        results.append(
            {
                "body": body,
                "httpHeaders": {},
                "httpStatusCode": status,
                "referenceId": sub["referenceId"],
            }
        )
    return json_response(200, {"compositeResponse": results})
