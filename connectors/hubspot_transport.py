"""HubSpot API calls through the one injected `httpx.Client`, under the house retry policy.

Classification (then `connectors.http` retries): 429 is `RateLimited`, waiting `Retry-After`
when sent, else the policy's window (`TEN_SECONDLY_ROLLING`: the interval header, 10 s;
`SECONDLY`, the search API's 5/s: 1 s); a 429 for the `DAILY` policy is `BudgetExhausted`
(the run stops early and resumes tomorrow rather than sleeping for hours); 5xx and timeouts
are `Retriable`; 401 `AuthError`; any other 4xx is `Fatal` with HubSpot's own message and
category. The daily budget is read from `X-HubSpot-RateLimit-Daily(-Remaining)`; below
`budget_reserve` calls stop before they are sent. Searches also pass a client-side limiter
(HubSpot allows 5 a second per token, and its search answers carry no rate headers).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

import httpx

from connectors.errors import BudgetExhausted, ConnectorError, RateLimited, Retriable
from connectors.http import RetryPolicy, call, classify_status, parse_retry_after, redact

logger = logging.getLogger(__name__)
POLICY_WAIT = {"SECONDLY": 1.0, "TEN_SECONDLY_ROLLING": 10.0}


class PerSecond:
    """At most `rate` calls in any second (the search API's per-token limit)."""

    def __init__(
        self,
        rate: int,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.rate, self.clock, self.sleep = rate, clock, sleep
        self._calls: deque[float] = deque()
        self._lock = threading.Lock()

    def acquire(self) -> None:
        with self._lock:
            now = self.clock()
            while self._calls and now - self._calls[0] >= 1.0:
                self._calls.popleft()
            if len(self._calls) >= self.rate:
                self.sleep(1.0 - (now - self._calls[0]))
                self._calls.popleft()
                now = self.clock()
            self._calls.append(now)


def hubspot_error(response: httpx.Response) -> ConnectorError | None:
    """The classified error of a failed response (None: success, 207 included)."""
    if response.status_code < 300:
        return None
    try:
        body: Any = response.json()
    except ValueError:
        body = None
    body = body if isinstance(body, dict) else {}
    category = body.get("category") or body.get("errorType")
    message = body.get("message") or f"HTTP {response.status_code}"
    if correlation := body.get("correlationId"):
        message = f"{message} (correlationId {correlation})"
    policy = body.get("policyName")
    if response.status_code == 429:
        if policy == "DAILY":
            return BudgetExhausted(f"HubSpot daily API limit reached: {message}")
        wait = parse_retry_after(response.headers.get("retry-after"))
        if wait is None:
            interval = response.headers.get("x-hubspot-ratelimit-interval-milliseconds")
            wait = int(interval) / 1000 if interval and interval.isdigit() else None
            wait = wait or POLICY_WAIT.get(policy or "", 1.0)
        return RateLimited(message, retry_after=wait, code=category, status=429)
    return classify_status(response.status_code, category, message)


class HubSpotTransport:
    """Sends HubSpot requests, counts them, remembers the daily budget."""

    def __init__(
        self,
        client: httpx.Client,
        policy: RetryPolicy,
        *,
        budget_reserve: int = 1000,
        search_per_second: int = 4,
    ) -> None:
        self.client = client
        self.policy = policy
        self.budget_reserve = budget_reserve
        self.search_limiter = PerSecond(search_per_second)  # waits in real time, always
        self.calls = 0
        self.daily: tuple[int, int] | None = None  # (used, total)

    def _remember(self, response: httpx.Response) -> None:
        total = response.headers.get("x-hubspot-ratelimit-daily")
        left = response.headers.get("x-hubspot-ratelimit-daily-remaining")
        if total and left and total.isdigit() and left.isdigit():
            self.daily = (int(total) - int(left), int(total))

    def check_budget(self) -> None:
        if self.daily and self.daily[1] - self.daily[0] <= self.budget_reserve:
            used, total = self.daily
            raise BudgetExhausted(
                f"HubSpot daily API budget {used}/{total} leaves no more than the reserve of "
                f"{self.budget_reserve}; stopping to resume later",
                used=used,
                total=total,
            )

    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        idempotent: bool = True,
    ) -> tuple[int, Any]:
        """One call under the policy: (status, decoded JSON body)."""
        search = path.endswith("/search")

        def send() -> tuple[int, Any]:
            self.check_budget()
            if search:
                self.search_limiter.acquire()
            self.calls += 1
            logger.debug("%s %s", method, redact(path))
            response = self.client.request(
                method, path, params=params, json=json, timeout=self.policy.timeout
            )
            self._remember(response)
            if (error := hubspot_error(response)) is not None:
                raise error
            if not response.content:
                return response.status_code, None
            try:
                return response.status_code, response.json()
            except ValueError as exc:  # cut short in transit: worth another try
                raise Retriable(
                    f"non-JSON response from {redact(path)}", code="MALFORMED_RESPONSE"
                ) from exc

        return call(send, self.policy, idempotent=idempotent)
