"""The error tree: one root, then a configuration problem or a connector failure classified into one class.

PulsehubError                  base of every error pulsehub raises on purpose (the CLI prints
 │                             its message, exit 2, no traceback unless -v)
 ├── ConfigError               bad configuration or input, worded for the operator: the file or
 │    │                        variable, the key and the fix
 │    ├── ScorecardError       scoring/config.py
 │    ├── TableError           scoring/table.py (a table to audit and its column map)
 │    ├── EscalationConfigError escalation/config.py
 │    └── ScheduleError        sync/schedule.py
 └── ConnectorError            base; `code` and `message` are the API's own words
      ├── Retriable            transient: 5xx, timeouts, connection errors, UNABLE_TO_LOCK_ROW
      │    └── RateLimited     429 / quota: wait `retry_after` seconds, not counted as an error
      ├── AuthError            401 / expired session: refresh once, then fail
      ├── Fatal                400s, INVALID_FIELD, MALFORMED_QUERY: never retried
      └── BudgetExhausted      daily API budget below the reserve: stop early, resume later
"""

from __future__ import annotations


class PulsehubError(Exception):
    """The root: an expected failure whose message is meant for the operator."""


class ConfigError(PulsehubError):
    """A configuration problem, worded for the operator: where it is, what is wrong, how to fix it."""


class ConnectorError(PulsehubError):
    """Base of every error a connector raises; carries the API's code and message."""

    def __init__(self, message: str, *, code: str | None = None, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status

    def __str__(self) -> str:
        parts = [p for p in (str(self.status) if self.status else None, self.code) if p]
        prefix = " ".join(parts)
        return f"{prefix}: {self.message}" if prefix else self.message


class Retriable(ConnectorError):
    """A transient failure; the same request may succeed later."""


class RateLimited(Retriable):
    """The API asked us to slow down; `retry_after` is the wait it asked for (seconds)."""

    def __init__(
        self,
        message: str,
        *,
        retry_after: float | None = None,
        code: str | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(message, code=code, status=status)
        self.retry_after = retry_after


class AuthError(ConnectorError):
    """Credentials were refused or the session expired."""


class Fatal(ConnectorError):
    """The request itself is wrong; retrying cannot help."""


class BudgetExhausted(ConnectorError):
    """The daily API budget is down to the configured reserve: stop now, resume later."""

    def __init__(self, message: str, *, used: int | None = None, total: int | None = None) -> None:
        super().__init__(message, code="BUDGET_RESERVE_REACHED")
        self.used = used
        self.total = total
