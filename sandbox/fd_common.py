"""What every Freshdesk route shares: its error shape, page-number pagination, parameters.

Freshdesk requests reach the simulator by Host (`<domain>.freshdesk.com`, see `sandbox.app`
`system_of`); its routes are registered under the `/freshdesk` prefix so they can never
match a Zendesk route of the same `/api/v2/...` path. Errors take Freshdesk's shapes:
`{"description": "Validation failed", "errors": [{"field", "message", "code"}]}` for a 400,
`{"code", "message"}` for the others. Lists are page-numbered (`page`, `per_page` up to 100,
default 30) with a `Link: <...>; rel="next"` header while more remain.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any, TypeVar
from urllib.parse import urlencode

from sandbox.app import Handler, RouteTable
from sandbox.formats import parse_datetime, to_epoch
from sandbox.httpd import Request, Response, json_response
from sandbox.state import State

PREFIX = "/freshdesk"  # the route table's private prefix for Freshdesk paths
DEFAULT_PER_PAGE, MAX_PER_PAGE = 30, 100
T = TypeVar("T")


class FdError(Exception):
    """A Freshdesk error answer: a validation error (with field errors) or a coded one."""

    def __init__(
        self, status: int, code: str, message: str, errors: list[dict[str, str]] | None = None
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.errors = status, code, message, errors

    def response(self) -> Response:
        if self.errors is not None:
            return json_response(self.status, {"description": self.message, "errors": self.errors})
        return json_response(self.status, {"code": self.code, "message": self.message})


def invalid(field: str, message: str, code: str = "invalid_value") -> FdError:
    """A 400 "Validation failed" naming one field."""
    return FdError(
        400, code, "Validation failed", [{"field": field, "message": message, "code": code}]
    )


def not_found() -> FdError:
    return FdError(404, "not_found", "The requested resource could not be found")


def routes() -> tuple[RouteTable, Callable[[str, str], Callable[[Handler], Handler]]]:
    """A route table and its decorator: the pattern gets the prefix, an FdError its shape."""
    table = RouteTable()

    def add(method: str, pattern: str) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            def handle(state: State, req: Request, m: re.Match[str]) -> Response:
                try:
                    return handler(state, req, m)
                except FdError as exc:
                    return exc.response()

            table.add(method, PREFIX + pattern)(handle)
            return handler

        return register

    return table, add


def read_body(req: Request) -> dict[str, Any]:
    try:
        body = req.json()
    except (ValueError, UnicodeDecodeError) as exc:
        raise FdError(400, "invalid_json", "Request body has invalid json format") from exc
    if not isinstance(body, dict):
        raise FdError(400, "invalid_json", "Request body has invalid json format")
    return body


def int_param(req: Request, name: str, default: int, lo: int = 1, hi: int | None = None) -> int:
    raw = req.query.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or int(raw) < lo or (hi is not None and int(raw) > hi):
        upper = f" and <= {hi}" if hi is not None else ""
        raise invalid(name, f"It should be a/an Positive Integer >= {lo}{upper}", "invalid_value")
    return int(raw)


def since_param(req: Request, name: str) -> int | None:
    raw = req.query.get(name)
    if raw is None:
        return None
    try:
        if "T" not in raw:
            raw = f"{raw}T00:00:00Z"
        return to_epoch(parse_datetime(raw))
    except ValueError as exc:
        raise invalid(name, "It should be in the 'valid date time' format") from exc


def page_of(req: Request, keys: Sequence[T], *, max_page: int | None = None) -> tuple[list[T], str]:
    """The requested page of `keys` and its Link header value ("" on the last page)."""
    per_page = int_param(req, "per_page", DEFAULT_PER_PAGE, 1, MAX_PER_PAGE)
    page = int_param(req, "page", 1)
    if max_page is not None and page > max_page:
        raise invalid(
            "page",
            f"You cannot access tickets beyond the {max_page}th page. "
            "Please provide a smaller page number.",
        )
    start = (page - 1) * per_page
    chunk = list(keys[start : start + per_page])
    if start + per_page >= len(keys):
        return chunk, ""
    query = urlencode({**req.query, "page": page + 1, "per_page": per_page})
    host = req.header("host") or req.base_url.split("://", 1)[1]
    return chunk, f'<https://{host}{req.path}?{query}>; rel="next"'


def list_response(items: list[dict[str, Any]], link: str) -> Response:
    return json_response(200, items, {"Link": link} if link else None)
