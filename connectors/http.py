"""One policy for every connector: classify a response or exception, retry only what may heal.

`classify` maps anything a client can return or raise to one `ConnectorError` class;
`retrying` is the single tenacity policy (exponential backoff with jitter, honouring
Retry-After, bounded in attempts and total time); `call` runs a client call under it;
`redact` strips secrets from URLs, headers and messages before anything is logged.
"""

from __future__ import annotations

import email.utils
import json
import logging
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx
import requests
import tenacity
from simple_salesforce.exceptions import SalesforceError

from connectors.errors import (
    AuthError,
    BudgetExhausted,
    ConnectorError,
    Fatal,
    RateLimited,
    Retriable,
)

logger = logging.getLogger(__name__)
T = TypeVar("T")

RETRIABLE_CODES = frozenset(
    {"UNABLE_TO_LOCK_ROW", "SERVER_UNAVAILABLE", "REQUEST_RUNNING_TOO_LONG"}
)
AUTH_CODES = frozenset({"INVALID_SESSION_ID", "INVALID_AUTH_HEADER", "Couldn't authenticate you"})
SENSITIVE_PARAMS = frozenset(
    {"access_token", "token", "password", "secret", "client_secret", "sid", "api_key", "key",
     "signature", "code", "refresh_token", "session_id", "security_token"}
)  # fmt: skip
SENSITIVE_HEADERS = frozenset(
    {"authorization", "cookie", "set-cookie", "x-api-key", "x-sfdc-session", "proxy-authorization"}
)


@dataclass(frozen=True)
class RetryPolicy:
    """Bounds of the retry policy; `sleep` is injectable so tests never wait."""

    max_attempts: int = 5
    max_time: float = 120.0
    initial_wait: float = 0.5
    max_wait: float = 30.0
    timeout: float = 30.0
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False)


def parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _error_detail(body: Any) -> tuple[str | None, str | None]:
    """(code, message) from the error body shapes of Salesforce, Zendesk and the usage API."""
    if isinstance(body, list) and body and isinstance(body[0], dict):
        first = body[0]
        code = first.get("errorCode") or first.get("statusCode")
        return code, first.get("message")
    if isinstance(body, dict):
        err = body.get("error")
        if isinstance(err, dict):
            return err.get("title") or err.get("code"), err.get("message")
        message = body.get("description") or body.get("message") or body.get("details")
        return (str(err) if err else body.get("errorCode")), (str(message) if message else None)
    return None, None


def classify_status(
    status: int,
    code: str | None = None,
    message: str | None = None,
    retry_after: float | None = None,
) -> ConnectorError | None:
    """Classify an HTTP status plus the API's own error code; None means success."""
    text = message or code or f"HTTP {status}"
    if status < 300 and code is None:
        return None
    if code == "REQUEST_LIMIT_EXCEEDED":
        if "concurrent" in text.lower():
            return RateLimited(text, retry_after=retry_after, code=code, status=status)
        return BudgetExhausted(text)
    if code in RETRIABLE_CODES:
        return Retriable(text, code=code, status=status)
    if status == 401 or code in AUTH_CODES:
        return AuthError(text, code=code, status=status)
    if status == 429 or (status == 503 and retry_after is not None):
        return RateLimited(text, retry_after=retry_after, code=code, status=status)
    if status in (408, 409) or status >= 500:
        return Retriable(text, code=code, status=status)
    return Fatal(text, code=code, status=status)


def classify_code(code: str | None, message: str | None) -> ConnectorError:
    """Classify one per-record error (e.g. a Salesforce collection result's statusCode)."""
    text = message or code or "unknown error"
    if code in RETRIABLE_CODES:
        return Retriable(text, code=code)
    return Fatal(text, code=code)


def _response_error(status: int, headers: Mapping[str, str], body: Any) -> ConnectorError | None:
    code, message = _error_detail(body) if status >= 300 else (None, None)
    return classify_status(status, code, message, parse_retry_after(headers.get("retry-after")))


def _json_or_none(response: httpx.Response | requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def classify(obj: object) -> ConnectorError | None:
    """Map a response or exception to a `ConnectorError`; None for success or unknown bugs."""
    if isinstance(obj, ConnectorError):
        return obj
    if isinstance(obj, httpx.Response | requests.Response):
        if obj.status_code < 300:
            return None
        return _response_error(obj.status_code, obj.headers, _json_or_none(obj))
    if isinstance(obj, httpx.TimeoutException | requests.Timeout):
        return Retriable(f"timeout: {redact(str(obj))}", code="TIMEOUT")
    if isinstance(obj, json.JSONDecodeError | requests.exceptions.JSONDecodeError):
        # a body cut short or garbled in transit: the same request may well come back whole
        return Retriable(f"malformed JSON in response: {obj}", code="MALFORMED_RESPONSE")
    if isinstance(obj, httpx.TransportError | requests.ConnectionError):
        return Retriable(f"connection error: {redact(str(obj))}", code="CONNECTION_ERROR")
    if isinstance(obj, SalesforceError):
        # simple-salesforce drops the response headers, so a 429 here falls back to backoff
        return _response_error(obj.status, {}, obj.content) or Fatal(
            redact(str(obj)), status=obj.status
        )
    response = getattr(obj, "response", None)
    if isinstance(response, requests.Response) and response.status_code >= 300:
        return classify(response)
    if type(obj).__name__ == "RatelimitBudgetExceeded":
        return RateLimited(str(obj), code="RATELIMIT_BUDGET")
    return None


def redact(text: str) -> str:
    """Remove credentials from a URL or free text: userinfo, secret params, auth schemes."""
    text = re.sub(r"(://)[^/@\s]+@", r"\1***@", text)
    text = re.sub(
        r"([?&])([^=&\s]+)=([^&\s'\"]*)",
        lambda m: f"{m[1]}{m[2]}=***" if m[2].lower() in SENSITIVE_PARAMS else m[0],
        text,
    )
    return re.sub(r"\b(Bearer|Basic|OAuth)\s+[A-Za-z0-9._~+/=!-]+", r"\1 ***", text)


def redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """A copy of `headers` with every credential-bearing value replaced by ***."""
    return {k: ("***" if k.lower() in SENSITIVE_HEADERS else v) for k, v in headers.items()}


def raise_for(response: httpx.Response | requests.Response) -> None:
    """Raise the classified error for a failed response; do nothing on success."""
    error = classify(response)
    if error is not None:
        raise error


def _stop(policy: RetryPolicy) -> Callable[[tenacity.RetryCallState], bool]:
    def stop(state: tenacity.RetryCallState) -> bool:
        exc = state.outcome.exception() if state.outcome else None
        errors = getattr(state, "pulsehub_errors", 0)
        if not isinstance(exc, RateLimited):
            errors += 1  # a rate-limit wait is not an error
        state.pulsehub_errors = errors  # type: ignore[attr-defined]
        spent = max(state.idle_for, time.monotonic() - state.start_time)
        return errors >= policy.max_attempts or spent + state.upcoming_sleep > policy.max_time

    return stop


def _wait(policy: RetryPolicy) -> Callable[[tenacity.RetryCallState], float]:
    backoff = tenacity.wait_exponential_jitter(initial=policy.initial_wait, max=policy.max_wait)

    def wait(state: tenacity.RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, RateLimited) and exc.retry_after is not None:
            return exc.retry_after
        return float(backoff(state))

    return wait


def _log_retry(state: tenacity.RetryCallState) -> None:
    exc = state.outcome.exception() if state.outcome else None
    logger.warning(
        "retrying in %.1fs (attempt %s): %s",
        state.upcoming_sleep,
        state.attempt_number,
        redact(str(exc)),
    )


def retrying(policy: RetryPolicy, *, idempotent: bool = True) -> tenacity.Retrying:
    """The one tenacity policy; a non-idempotent call is retried only when rate-limited."""
    retry_on = Retriable if idempotent else RateLimited
    return tenacity.Retrying(
        retry=tenacity.retry_if_exception_type(retry_on),
        stop=_stop(policy),
        wait=_wait(policy),
        sleep=policy.sleep,
        before_sleep=_log_retry,
        reraise=True,
    )


def classified(fn: Callable[[], T]) -> Callable[[], T]:
    """`fn` raising only `ConnectorError`s: what `classify` knows is translated, the rest re-raised."""

    def attempt() -> T:
        try:
            return fn()
        except ConnectorError:
            raise
        except Exception as exc:
            error = classify(exc)
            if error is None:
                raise
            raise error from exc

    return attempt


def call(
    fn: Callable[[], T],
    policy: RetryPolicy,
    *,
    idempotent: bool = True,
    refresh: Callable[[], None] | None = None,
) -> T:
    """Run `fn` under the policy; on AuthError refresh credentials once, then fail."""
    attempt = classified(fn)
    try:
        return retrying(policy, idempotent=idempotent)(attempt)
    except AuthError:
        if refresh is None:
            raise
        logger.info("session rejected; refreshing credentials once")
        refresh()
        return retrying(policy, idempotent=idempotent)(attempt)
