"""HTTP through the injected zenpy client's session: its auth and host, our retry policy.

zenpy's own `_call_api` sleeps on 429 without bound and cannot send extra headers
(Idempotency-Key); so calls go through zenpy's configured `requests` session and URL
builder (which honours ZENPY_FORCE_SCHEME / ZENPY_FORCE_NETLOC) under `connectors.http`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

import requests
from zenpy import Zenpy
from zenpy.lib.endpoint import Url

from connectors.errors import Retriable
from connectors.http import RetryPolicy, call, parse_retry_after, raise_for, redact

logger = logging.getLogger(__name__)


def adapter_kwargs() -> dict[str, Any]:
    """zenpy's production `HTTPAdapter` settings, except that urllib3 re-sends only reads.

    urllib3 counts PUT as idempotent and re-sends it after a connection reset; but the PUT
    that adds a ticket comment is not, so a lost answer would post the comment again. The
    retry policy here already re-sends the writes that are idempotent.
    """
    kwargs = dict(Zenpy.http_adapter_kwargs())
    kwargs["max_retries"] = kwargs["max_retries"].new(
        allowed_methods=frozenset({"GET", "HEAD", "OPTIONS"})
    )
    return kwargs


class WindowLimiter:
    """At most `max_calls` per `per` seconds (Zendesk incremental exports: 10/min)."""

    def __init__(
        self,
        max_calls: int,
        per: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.max_calls, self.per = max_calls, per
        self.clock, self.sleep = clock, sleep
        self._calls: deque[float] = deque()
        self._lock = threading.Lock()  # pages are requested ahead in background threads

    def acquire(self) -> None:
        """Block until one more call fits in the window, then record it."""
        with self._lock:
            now = self.clock()
            while self._calls and now - self._calls[0] >= self.per:
                self._calls.popleft()
            if len(self._calls) >= self.max_calls:
                wait = self.per - (now - self._calls[0])
                logger.info("incremental export limit: waiting %.1fs", wait)
                self.sleep(wait)
                self._calls.popleft()
                now = self.clock()
            self._calls.append(now)


class ZendeskTransport:
    """Sends Zendesk API requests with the zenpy client's session, counting calls."""

    def __init__(
        self, zenpy: Zenpy, policy: RetryPolicy, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.api = zenpy.tickets
        self.session: requests.Session = zenpy.tickets.session
        self.policy = policy
        self.clock = clock
        self.calls = 0
        self.method_calls: dict[str, int] = {}
        self._resume_at = 0.0

    def _respect_budget(self, response: requests.Response) -> None:
        """When the per-minute budget is spent, hold the next call until the window resets."""
        if response.headers.get("x-rate-limit-remaining") != "0":
            return
        reset = parse_retry_after(response.headers.get("ratelimit-reset")) or 60.0
        self._resume_at = self.clock() + reset

    def url(self, path: str) -> str:
        """Absolute API URL for a path like 'tickets.json' (zenpy's host resolution)."""
        return str(self.api._build_url(Url(path)))

    def request(
        self,
        method: str,
        url_or_path: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        headers: dict[str, str] | None = None,
        idempotent: bool = True,
        limiter: WindowLimiter | None = None,
    ) -> Any:
        """One call under the retry policy; returns the decoded JSON body (or None)."""
        url = url_or_path if "://" in url_or_path else self.url(url_or_path)

        def send() -> Any:
            if (wait := self._resume_at - self.clock()) > 0:
                logger.info("Zendesk rate budget spent: waiting %.1fs for the window", wait)
                self.policy.sleep(wait)
            if limiter is not None:
                limiter.acquire()
            self.calls += 1
            self.method_calls[method] = self.method_calls.get(method, 0) + 1
            logger.debug("%s %s", method, redact(url))
            response = self.session.request(
                method, url, params=params, json=json, headers=headers, timeout=self.policy.timeout
            )
            self._respect_budget(response)
            raise_for(response)
            if not response.content:
                return None
            try:
                return response.json()
            except ValueError as exc:  # cut short in transit, most likely: worth another try
                raise Retriable(
                    f"non-JSON response from {redact(url)}", code="MALFORMED_RESPONSE", status=200
                ) from exc

        return call(send, self.policy, idempotent=idempotent)
