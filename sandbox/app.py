"""Dispatch: route a request to its simulator after logging, faults, auth and rate limits."""

from __future__ import annotations

import base64
import json
import logging
import math
import random
import re
import time
import uuid
from collections.abc import Callable
from typing import Any

from sandbox import credentials as cred
from sandbox.httpd import Request, Response, json_response
from sandbox.state import State

log = logging.getLogger(__name__)
Handler = Callable[[State, Request, re.Match[str]], Response]
Route = tuple[str, str, Handler]


class RouteTable(list[Route]):
    """A module's routes in the order declared: `@ROUTES.add("GET", pattern)` above each handler."""

    def add(self, method: str, pattern: str) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self.append((method, pattern, handler))
            return handler

        return register


_LOGIN = re.compile(r"^/services/(Soap/u/|oauth2/token)")
HUBSPOT_PREFIXES = ("/crm/v3/", "/crm/v4/", "/oauth/", "/account-info/")
LOST = "X-Sandbox-Lost-Response"  # marks a reset whose request was applied (for the log only)


FRESHDESK_HOST = re.compile(r"^[a-z0-9][a-z0-9-]*\.freshdesk\.com(:\d+)?$")


def system_of(path: str, host: str = "") -> str:
    """Which simulated system a request belongs to: Freshdesk by its Host
    (`<domain>.freshdesk.com`, whose `/api/v2/...` paths are Zendesk's too), the rest by path."""
    if FRESHDESK_HOST.match(host.lower()):
        return "freshdesk"
    if path.startswith("/services/"):
        return "salesforce"
    if path.startswith("/api/v2/"):
        return "zendesk"
    if path.startswith("/_sandbox"):
        return "control"
    if path.startswith(HUBSPOT_PREFIXES):
        return "hubspot"
    return "usage"


def error(system: str, status: int, code: str, message: str) -> Response:
    """An error in the system's own shape."""
    if system == "salesforce":
        return json_response(status, [{"message": message, "errorCode": code}])
    if system == "zendesk":
        return json_response(status, {"error": code, "description": message})
    if system == "hubspot":
        return json_response(status, hubspot_error(code, message))
    if system == "freshdesk":
        return json_response(status, {"code": code, "message": message})
    return json_response(status, {"error": {"code": code, "message": message}})


def hubspot_error(category: str, message: str, **extra: Any) -> dict[str, Any]:
    """HubSpot's error body: status, message, correlationId, category (and e.g. policyName)."""
    return {
        "status": "error",
        "message": message,
        "correlationId": str(uuid.uuid4()),
        "category": category,
        **extra,
    }


def _basic(req: Request) -> tuple[str, str] | None:
    value = req.header("authorization")
    if not value.lower().startswith("basic "):
        return None
    try:
        user, _, pw = base64.b64decode(value[6:]).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        return None
    return user, pw


def _bearer(req: Request) -> str:
    value = req.header("authorization")
    return value[7:].strip() if value.lower().startswith("bearer ") else ""


def authorized(state: State, system: str, req: Request) -> bool:
    """Check the credentials each system accepts."""
    if system == "salesforce":
        if _LOGIN.match(req.path):
            return True
        token = _bearer(req) or req.header("authorization")[6:].strip()
        return token == cred.SF_SESSION_ID or token in state.sf_sessions
    if system == "zendesk":
        basic = _basic(req)
        if basic is not None:
            return basic == (f"{cred.ZD_EMAIL}/token", cred.ZD_API_TOKEN)
        return _bearer(req) == cred.ZD_OAUTH_TOKEN
    if system == "hubspot":
        return _bearer(req) == cred.HS_PRIVATE_APP_TOKEN
    if system == "freshdesk":  # the API key as user name, any password ("X")
        basic = _basic(req)
        return basic is not None and basic[0] == cred.FD_API_KEY
    if req.path.startswith("/api/2.0/"):
        basic = _basic(req)
        return basic is not None and cred.USAGE_EXPORT_SECRET in basic
    return _bearer(req) == cred.USAGE_BEARER_TOKEN


def _unauthorized(system: str) -> Response:
    if system == "salesforce":
        return error(system, 401, "INVALID_SESSION_ID", "Session expired or invalid")
    if system == "zendesk":
        return json_response(401, {"error": "Couldn't authenticate you"})
    if system == "hubspot":
        return error(
            system,
            401,
            "INVALID_AUTHENTICATION",
            "Authentication credentials not found. This API supports OAuth 2.0 authentication "
            "and you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview",
        )
    if system == "freshdesk":
        return error(
            system, 401, "invalid_credentials", "You have to be logged in to perform this action."
        )
    return error(system, 401, "unauthorized", "missing or invalid credentials")


class Dispatcher:
    """The App served by HttpServer."""

    def __init__(self, state: State, routes: list[Route]) -> None:
        self.state = state
        self.routes = [(m, re.compile(p + "$"), h) for m, p, h in routes]

    def __call__(self, req: Request) -> Response:
        system = system_of(req.path, req.header("host"))
        try:
            resp = self._respond(system, req)
        except Exception:
            log.exception("sandbox failed on %s %s", req.method, req.path)
            resp = error(
                system, 500, "UNKNOWN_EXCEPTION", "An unexpected error occurred (sandbox bug)"
            )
        self.state.log_request(
            {
                "system": system,
                "method": req.method,
                "path": req.path,
                "query": req.query,
                "status": resp.status if resp.action is None else resp.action,
                "body": self._logged_body(req),
                # applied, answer reset: tells a lost response from a reset before the request ran
                "lost_response": LOST in resp.headers,
            }
        )
        return resp

    @staticmethod
    def _logged_body(req: Request) -> Any:
        if req.method in ("GET", "HEAD") or _LOGIN.match(req.path) or not req.body:
            return None
        try:
            return req.json()
        except ValueError:
            return None

    def _respond(self, system: str, req: Request) -> Response:
        state = self.state
        fault = None if system == "control" else state.faults.pick(req.method, req.path)
        if fault == "slow":
            time.sleep(random.uniform(0.02, 0.1))
            fault = None
        if isinstance(fault, int):
            return self._finish(system, self._fault_status(system, fault))
        if fault == "429-no-retry-after":
            resp = self._fault_status(system, 429)
            del resp.headers["Retry-After"]
            return self._finish(system, resp)
        if fault in ("reset", "timeout"):
            headers = {"X-Sandbox-Stall": str(state.timeout_seconds)}
            return Response(0, b"", headers, action=str(fault))
        if system != "control" and (
            fault == "expire_session" or not authorized(state, system, req)
        ):
            if fault == "expire_session":
                state.sf_sessions.discard(_bearer(req))
            return self._finish(system, _unauthorized(system))
        incremental = req.path.startswith("/api/v2/incremental/")
        if (
            system == "salesforce"
            and not _LOGIN.match(req.path)
            and not state.limits.take_salesforce()
        ):
            resp = error(system, 403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
            return self._finish(system, resp)
        rate_headers: dict[str, str] = {}
        if system == "zendesk":
            allowed, rate_headers = state.limits.take_zendesk(incremental)
            if not allowed:
                return json_response(
                    429,
                    {"error": "APIRateLimitExceeded", "description": "Rate limit exceeded"},
                    rate_headers,
                )
        if system == "hubspot" and (refused := hubspot_limited(state, req, rate_headers)):
            return refused
        if system == "freshdesk":
            allowed, rate_headers = state.limits.take_freshdesk(req.query.get("include", ""))
            if not allowed:
                resp = error(system, 429, "rate_limit_exceeded", "API rate limit exceeded")
                resp.headers.update(rate_headers)
                return self._finish(system, resp)
        resp = self._route(system, req)
        if fault == "lost_response":  # applied, but the client never hears back
            return Response(0, b"", {LOST: "1"}, action="reset")
        resp.headers.update(rate_headers)
        if fault == "malformed_json":
            body = resp.body if isinstance(resp.body, bytes) else b"".join(resp.body)
            resp.body = body[: max(1, len(body) // 2)]
            resp.headers["Content-Type"] = "application/json; charset=utf-8"
        return self._finish(system, resp)

    def _route(self, system: str, req: Request) -> Response:
        found_path = False
        path = req.path
        if system == "zendesk" and not path.endswith(".json"):
            path = path.rstrip("/") + ".json"  # Zendesk serves every resource with or without .json
        if system == "freshdesk":
            path = "/freshdesk" + path.rstrip("/")  # its routes' own prefix (sandbox.fd_common)
        for method, pattern, handler in self.routes:
            match = pattern.match(path)
            if match is None:
                continue
            found_path = True
            if method == req.method:
                try:
                    return handler(self.state, req, match)
                except BadRequest as exc:
                    return error(system, exc.status, exc.code, exc.message)
        if found_path:
            return error(
                system, 405, "METHOD_NOT_ALLOWED", f"HTTP Method '{req.method}' not allowed"
            )
        if system == "salesforce":
            return error(system, 404, "NOT_FOUND", "The requested resource does not exist")
        if system == "zendesk":
            return json_response(404, {"error": "InvalidEndpoint", "description": "Not found"})
        if system == "hubspot":
            return error(system, 404, "OBJECT_NOT_FOUND", f"resource not found: {req.path}")
        return error(system, 404, "not_found", "no such endpoint")

    def _fault_status(self, system: str, status: int) -> Response:
        if status == 429:
            resp = error(system, 429, "RateLimited", "Too many requests (sandbox fault)")
            if system == "zendesk":
                resp = json_response(
                    429, {"error": "APIRateLimitExceeded", "description": "Rate limit exceeded"}
                )
            resp.headers["Retry-After"] = "1"
            return resp
        if system == "salesforce" and status == 403:
            return error(system, 403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
        if system == "salesforce" and status == 401:
            return _unauthorized(system)
        if system == "zendesk" and status >= 500:
            return json_response(
                status,
                {
                    "error": "ServiceUnavailable" if status == 503 else "InternalError",
                    "description": "sandbox fault",
                },
            )
        code = {
            400: "BAD_REQUEST",
            404: "NOT_FOUND",
            500: "UNKNOWN_EXCEPTION",
            503: "SERVER_UNAVAILABLE",
        }.get(status, f"HTTP_{status}")
        return error(system, status, code, f"sandbox injected HTTP {status}")

    def _finish(self, system: str, resp: Response) -> Response:
        if system == "salesforce":
            resp.headers["Sforce-Limit-Info"] = self.state.limits.sf_header()
        return resp


def hubspot_limited(state: State, req: Request, headers: dict[str, str]) -> Response | None:
    """Count a HubSpot call against its app's limits; the 429 when one is spent (else the
    rate-limit headers to send are added to `headers`)."""
    policy, wait, sent = state.hubspot.limits.take(req.path.endswith("/search"))
    headers.update(sent)
    if policy is None:
        return None
    which = {"DAILY": "daily", "SECONDLY": "secondly"}.get(policy, "ten_secondly_rolling")
    body = hubspot_error(
        "RATE_LIMITS",
        f"You have reached your {which} limit.",
        errorType="RATE_LIMIT",
        policyName=policy,
    )
    return json_response(429, body, {**sent, "Retry-After": str(max(1, math.ceil(wait)))})


class BadRequest(Exception):
    """Raised by handlers for a 4xx in the system's error shape."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def dumps(payload: Any) -> bytes:
    """Compact JSON bytes."""
    return json.dumps(payload, separators=(",", ":")).encode()
