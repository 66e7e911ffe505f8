"""Freshdesk over httpx: one request under the shared retry policy, its errors in Freshdesk's
own words, its rate-limit headers kept, and the sandbox/testing loopback.

Freshdesk answers a validation error as `{"description": "Validation failed", "errors":
[{"field", "message", "code"}]}` and other errors as `{"code", "message"}`; the error raised
(and so the dead letter) carries every field error, e.g. "Validation failed: priority: It
should be one of these values: '1,2,3,4' (invalid_value)". Every response reports the
account's budget in `X-Ratelimit-Total` / `X-Ratelimit-Remaining` (and the credits this
request cost in `X-Ratelimit-Used-CurrentRequest`); a 429 carries `Retry-After`, which the
shared policy waits out.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit

import httpx

from connectors.errors import ConfigError, ConnectorError
from connectors.http import RetryPolicy, call, classify, classify_status, parse_retry_after

logger = logging.getLogger(__name__)


class LoopbackTransport(httpx.BaseTransport):
    """Sends every request to one http base URL on this machine, keeping path, query and the
    Host header (`<domain>.freshdesk.com`), by which the sandbox knows the system."""

    def __init__(self, base_url: str, inner: httpx.BaseTransport | None = None) -> None:
        target = urlsplit(base_url)
        if target.hostname not in {"127.0.0.1", "localhost", "::1"}:
            raise ConfigError(
                f"loopback_url must point at this machine, got host {target.hostname!r}"
            )
        self._host, self._port = target.hostname, target.port
        self._inner = inner or httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.url = request.url.copy_with(scheme="http", host=self._host, port=self._port)
        return self._inner.handle_request(request)

    def close(self) -> None:
        self._inner.close()


def error_of(response: httpx.Response) -> ConnectorError | None:
    """The classified error of a failed response, with Freshdesk's field errors spelled out."""
    if response.status_code < 300:
        return None
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        return classify(response)
    code = body.get("code")
    message = body.get("description") or body.get("message")
    errors = body.get("errors")
    if isinstance(errors, list) and errors:
        details = "; ".join(_field_error(e) for e in errors)
        message = f"{message or 'Validation failed'}: {details}"
        first = errors[0]
        code = code or (first.get("code") if isinstance(first, dict) else None)
    retry_after = parse_retry_after(response.headers.get("retry-after"))
    return classify_status(
        response.status_code,
        str(code) if code and response.status_code >= 300 else None,
        str(message) if message else None,
        retry_after,
    )


def _field_error(e: Any) -> str:
    if not isinstance(e, dict):
        return str(e)
    field = f"{e['field']}: " if e.get("field") else ""
    code = f" ({e['code']})" if e.get("code") else ""
    return f"{field}{e.get('message') or 'invalid'}{code}"


class FreshdeskTransport:
    """Requests to one Freshdesk account through an injected httpx.Client (base URL
    `https://<domain>.freshdesk.com/api/v2/`, Basic auth with the API key)."""

    def __init__(self, client: httpx.Client, policy: RetryPolicy = RetryPolicy()) -> None:
        self.client = client
        self.policy = policy
        self.calls = 0
        self.rate_total: int | None = None
        self.rate_remaining: int | None = None

    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        idempotent: bool = True,
    ) -> httpx.Response:
        """The response of one call; a non-idempotent one is re-sent only after a 429."""

        def send() -> httpx.Response:
            self.calls += 1
            response = self.client.request(
                method, path, params=params, json=json, timeout=self.policy.timeout
            )
            self._note_budget(response)
            if (error := error_of(response)) is not None:
                raise error
            return response

        return call(send, self.policy, idempotent=idempotent)

    def _note_budget(self, response: httpx.Response) -> None:
        total = response.headers.get("x-ratelimit-total")
        remaining = response.headers.get("x-ratelimit-remaining")
        if total and total.isdigit():
            self.rate_total = int(total)
        if remaining and remaining.isdigit():
            self.rate_remaining = int(remaining)
            if self.rate_total and self.rate_remaining < self.rate_total // 10:
                logger.info("freshdesk: %s of %s API credits left", remaining, total)
