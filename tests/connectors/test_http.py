"""The classifier and the retry policy: a parametrized table, then the policy's behaviour."""

from __future__ import annotations

import httpx
import pytest
import requests
from simple_salesforce.exceptions import (
    SalesforceExpiredSession,
    SalesforceGeneralError,
    SalesforceMalformedRequest,
    SalesforceRefusedRequest,
)

from connectors.errors import AuthError, BudgetExhausted, Fatal, RateLimited, Retriable
from connectors.http import RetryPolicy, call, classify, classify_code, redact, redact_headers


def _sf_error(cls: type, status: int, code: str, message: str = "msg") -> Exception:
    return cls(
        "https://x/services/data", status, "Account", [{"errorCode": code, "message": message}]
    )


def _requests_response(status: int, body: bytes = b"{}", headers: dict | None = None):
    r = requests.Response()
    r.status_code = status
    r._content = body
    r.headers.update(headers or {})
    return r


@pytest.mark.parametrize(
    ("thing", "expected", "code"),
    [
        (httpx.Response(200), None, None),
        (httpx.Response(429, headers={"Retry-After": "7"}), RateLimited, None),
        (httpx.Response(500), Retriable, None),
        (httpx.Response(502), Retriable, None),
        (httpx.Response(503), Retriable, None),
        (httpx.Response(408), Retriable, None),
        (httpx.Response(400, json={"error": "bad"}), Fatal, "bad"),
        (httpx.Response(404, json={"error": "RecordNotFound"}), Fatal, "RecordNotFound"),
        (httpx.Response(401), AuthError, None),
        (_requests_response(429, headers={"Retry-After": "3"}), RateLimited, None),
        (_requests_response(409), Retriable, None),
        (
            _requests_response(422, b'{"error": "RecordInvalid", "description": "x"}'),
            Fatal,
            "RecordInvalid",
        ),
        (
            _requests_response(400, b'{"error": "IdempotentRequestError"}'),
            Fatal,
            "IdempotentRequestError",
        ),
        (httpx.ReadTimeout("slow"), Retriable, "TIMEOUT"),
        (httpx.ConnectError("refused"), Retriable, "CONNECTION_ERROR"),
        (requests.Timeout("slow"), Retriable, "TIMEOUT"),
        (requests.ConnectionError("reset"), Retriable, "CONNECTION_ERROR"),
        (_sf_error(SalesforceMalformedRequest, 400, "MALFORMED_QUERY"), Fatal, "MALFORMED_QUERY"),
        (_sf_error(SalesforceMalformedRequest, 400, "INVALID_FIELD"), Fatal, "INVALID_FIELD"),
        (
            _sf_error(SalesforceMalformedRequest, 400, "UNABLE_TO_LOCK_ROW"),
            Retriable,
            "UNABLE_TO_LOCK_ROW",
        ),
        (
            _sf_error(SalesforceExpiredSession, 401, "INVALID_SESSION_ID"),
            AuthError,
            "INVALID_SESSION_ID",
        ),
        (
            _sf_error(
                SalesforceRefusedRequest,
                403,
                "REQUEST_LIMIT_EXCEEDED",
                "TotalRequests Limit exceeded.",
            ),
            BudgetExhausted,
            "BUDGET_RESERVE_REACHED",
        ),
        (
            _sf_error(
                SalesforceRefusedRequest, 403, "REQUEST_LIMIT_EXCEEDED", "ConcurrentRequests limit"
            ),
            RateLimited,
            "REQUEST_LIMIT_EXCEEDED",
        ),
        (
            _sf_error(SalesforceGeneralError, 503, "SERVER_UNAVAILABLE"),
            Retriable,
            "SERVER_UNAVAILABLE",
        ),
        (
            _sf_error(SalesforceGeneralError, 500, "UNKNOWN_EXCEPTION"),
            Retriable,
            "UNKNOWN_EXCEPTION",
        ),
        (KeyError("bug"), None, None),
    ],
)
def test_classify_table(thing: object, expected: type | None, code: str | None) -> None:
    error = classify(thing)
    if expected is None:
        assert error is None
        return
    assert type(error) is expected
    assert error.code == code


def test_retry_after_is_read_from_the_header() -> None:
    error = classify(httpx.Response(429, headers={"Retry-After": "12"}))
    assert isinstance(error, RateLimited) and error.retry_after == 12


def test_fatal_keeps_the_api_message() -> None:
    error = classify(
        _sf_error(SalesforceMalformedRequest, 400, "INVALID_FIELD", "No such column 'X'")
    )
    assert error is not None and error.message == "No such column 'X'"


@pytest.mark.parametrize(
    ("code", "expected"),
    [("UNABLE_TO_LOCK_ROW", Retriable), ("INVALID_FIELD", Fatal), ("ENTITY_IS_DELETED", Fatal)],
)
def test_classify_per_record_code(code: str, expected: type) -> None:
    assert type(classify_code(code, "m")) is expected


class Script:
    """A callable that raises or returns the scripted outcomes in order."""

    def __init__(self, *outcomes: object) -> None:
        self.outcomes = list(outcomes)
        self.calls = 0

    def __call__(self) -> object:
        self.calls += 1
        outcome = self.outcomes.pop(0)
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome


def test_429_with_retry_after_is_waited_out_and_not_counted(policy: RetryPolicy, sleeps) -> None:
    limited = [RateLimited("slow down", retry_after=30, status=429) for _ in range(6)]
    fn = Script(*limited, "ok")  # more 429s than max_attempts (4): none counts as an error
    assert call(fn, policy) == "ok"
    assert sleeps == [30] * 6


def test_400_is_never_retried(policy: RetryPolicy, sleeps) -> None:
    fn = Script(_sf_error(SalesforceMalformedRequest, 400, "MALFORMED_QUERY"), "never")
    with pytest.raises(Fatal):
        call(fn, policy)
    assert fn.calls == 1 and sleeps == []


def test_5xx_retried_with_backoff_then_gives_up(policy: RetryPolicy, sleeps) -> None:
    fn = Script(*[requests.ConnectionError("reset")] * 10)
    with pytest.raises(Retriable):
        call(fn, policy)
    assert fn.calls == policy.max_attempts
    assert len(sleeps) == policy.max_attempts - 1
    assert all(0 < s <= policy.max_wait for s in sleeps)


def test_total_time_bounds_the_retries(sleeps) -> None:
    tight = RetryPolicy(max_attempts=100, max_time=50, sleep=sleeps)
    fn = Script(*[RateLimited("x", retry_after=20)] * 10)
    with pytest.raises(RateLimited):
        call(fn, tight)
    assert sum(sleeps) <= 50 and fn.calls == 3


def test_transient_then_success(policy: RetryPolicy) -> None:
    fn = Script(Retriable("blip", status=503), httpx.ReadTimeout("slow"), "done")
    assert call(fn, policy) == "done" and fn.calls == 3


def test_non_idempotent_call_is_not_retried_on_5xx(policy: RetryPolicy) -> None:
    fn = Script(Retriable("blip", status=502), "dup")
    with pytest.raises(Retriable):
        call(fn, policy, idempotent=False)
    assert fn.calls == 1


def test_non_idempotent_call_is_retried_on_429(policy: RetryPolicy) -> None:
    fn = Script(RateLimited("x", retry_after=1), "created")
    assert call(fn, policy, idempotent=False) == "created"


def test_expired_session_refreshes_once(policy: RetryPolicy) -> None:
    refreshed = []
    fn = Script(_sf_error(SalesforceExpiredSession, 401, "INVALID_SESSION_ID"), "ok")
    assert call(fn, policy, refresh=lambda: refreshed.append(1)) == "ok"
    assert refreshed == [1]


def test_expired_session_twice_fails_after_one_refresh(policy: RetryPolicy) -> None:
    refreshed = []
    expired = _sf_error(SalesforceExpiredSession, 401, "INVALID_SESSION_ID")
    fn = Script(expired, expired, "never")
    with pytest.raises(AuthError):
        call(fn, policy, refresh=lambda: refreshed.append(1))
    assert refreshed == [1] and fn.calls == 2


def test_unknown_exceptions_are_not_swallowed(policy: RetryPolicy) -> None:
    with pytest.raises(KeyError):
        call(Script(KeyError("bug")), policy)


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("https://user:hunter2@example.com/x", "hunter2"),
        ("https://x.test/services/oauth2/token?access_token=SECRET1&a=1", "SECRET1"),
        ("GET /export?api_key=SECRET2", "SECRET2"),
        ("Authorization: Bearer abc.DEF-123", "abc.DEF-123"),
        ("Authorization: Basic dXNlcjpwYXNz", "dXNlcjpwYXNz"),
    ],
)
def test_redact_removes_secrets(text: str, secret: str) -> None:
    assert secret not in redact(text)


def test_redact_keeps_harmless_params() -> None:
    assert (
        redact("https://x.test/a?cursor=abc&per_page=10")
        == "https://x.test/a?cursor=abc&per_page=10"
    )


def test_redact_headers() -> None:
    out = redact_headers({"Authorization": "Bearer x", "X-Other": "y", "Cookie": "sid=1"})
    assert out == {"Authorization": "***", "X-Other": "y", "Cookie": "***"}


def test_retry_logs_are_redacted(policy: RetryPolicy, caplog) -> None:
    fn = Script(Retriable("failed GET https://x.test/a?access_token=TOPSECRET"), "ok")
    with caplog.at_level("DEBUG"):
        call(fn, policy)
    assert "TOPSECRET" not in caplog.text and "retrying" in caplog.text
