"""Rate-limit budgets: Salesforce daily API requests and Zendesk per-minute windows."""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, field


@dataclass
class Limits:
    """Budgets; the defaults relax Zendesk incremental exports (real: 10/min) so suites don't stall.

    `Limits.real()` gives the documented figures (Enterprise plan).
    """

    sf_daily: int = 100_000
    zd_per_minute: int = 700
    zd_incremental_per_minute: int = 100
    fd_per_minute: int = 3000  # Freshdesk: credits a minute (an `include` costs one more)
    sf_used: int = 0
    _windows: dict[str, tuple[float, int]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def real(cls) -> Limits:
        """The vendors' documented budgets."""
        return cls(sf_daily=100_000, zd_per_minute=700, zd_incremental_per_minute=10)

    def take_salesforce(self) -> bool:
        """Count one Salesforce API request; False when the daily budget is spent."""
        with self._lock:
            if self.sf_used >= self.sf_daily:
                return False
            self.sf_used += 1
            return True

    def sf_header(self) -> str:
        """`Sforce-Limit-Info` value."""
        return f"api-usage={self.sf_used}/{self.sf_daily}"

    def take_freshdesk(self, include: str = "") -> tuple[bool, dict[str, str]]:
        """Spend one Freshdesk request's credits (1, +1 per `include`); (allowed, its
        X-Ratelimit-* headers, with Retry-After when refused)."""
        cost = 1 + len([x for x in include.split(",") if x])
        with self._lock:
            now = time.monotonic()
            start, used = self._windows.get("freshdesk", (now, 0))
            if now - start >= 60:
                start, used = now, 0
            allowed = used + cost <= self.fd_per_minute
            if allowed:
                used += cost
            self._windows["freshdesk"] = (start, used)
            headers = {
                "X-Ratelimit-Total": str(self.fd_per_minute),
                "X-Ratelimit-Remaining": str(max(0, self.fd_per_minute - used)),
                "X-Ratelimit-Used-CurrentRequest": str(cost if allowed else 0),
            }
            if not allowed:
                headers["Retry-After"] = str(max(1, math.ceil(60 - (now - start))))
            return allowed, headers

    def take_zendesk(self, incremental: bool) -> tuple[bool, dict[str, str]]:
        """Count one Zendesk request; (allowed, rate-limit headers incl. Retry-After when not)."""
        with self._lock:
            key = "incremental" if incremental else "account"
            limit = self.zd_incremental_per_minute if incremental else self.zd_per_minute
            now = time.monotonic()
            start, used = self._windows.get(key, (now, 0))
            if now - start >= 60:
                start, used = now, 0
            allowed = used < limit
            if allowed:
                used += 1
            self._windows[key] = (start, used)
            reset = max(1, math.ceil(60 - (now - start)))
            headers = {
                "X-Rate-Limit": str(limit),
                "X-Rate-Limit-Remaining": str(max(0, limit - used)),
                "ratelimit-limit": str(limit),
                "ratelimit-remaining": str(max(0, limit - used)),
                "ratelimit-reset": str(reset),
            }
            if not allowed:
                headers["Retry-After"] = str(reset)
            return allowed, headers
