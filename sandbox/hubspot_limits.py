"""HubSpot rate limits for one private app: a rolling 10-second burst, a daily cap, and the
search endpoints' own 5 requests a second.

Figures (Professional / Enterprise private apps): 190 requests per 10 seconds, 1,000,000 a
day (650,000 on Professional); search 5 requests/s per token, and search answers carry no
`X-HubSpot-RateLimit-*` headers. A refused call is a 429 whose body names the policy
(`TEN_SECONDLY_ROLLING`, `SECONDLY`, `DAILY`); the sandbox adds `Retry-After` (seconds until
the window frees a slot, or until midnight UTC for the daily cap).
"""

from __future__ import annotations

import datetime as dt
import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class HubSpotLimits:
    """Budgets and their use; `clock` is injectable for tests."""

    per_ten_seconds: int = 190
    daily: int = 1_000_000
    search_per_second: int = 5
    daily_used: int = 0
    clock: Callable[[], float] = time.monotonic
    _burst: deque[float] = field(default_factory=deque)
    _search: deque[float] = field(default_factory=deque)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def take(self, search: bool) -> tuple[str | None, float, dict[str, str]]:
        """Count one request: (refusing policy or None, seconds to wait, headers to send)."""
        with self._lock:
            now = self.clock()
            if self.daily_used >= self.daily:
                return "DAILY", _until_midnight(), {}
            if search:
                wait = _slide(self._search, now, 1.0, self.search_per_second)
                if wait:
                    return "SECONDLY", wait, {}
                self._search.append(now)
            else:
                wait = _slide(self._burst, now, 10.0, self.per_ten_seconds)
                if wait:
                    return "TEN_SECONDLY_ROLLING", wait, self._headers()
                self._burst.append(now)
            self.daily_used += 1
            return None, 0.0, {} if search else self._headers()

    def _headers(self) -> dict[str, str]:
        return {
            "X-HubSpot-RateLimit-Interval-Milliseconds": "10000",
            "X-HubSpot-RateLimit-Max": str(self.per_ten_seconds),
            "X-HubSpot-RateLimit-Remaining": str(max(0, self.per_ten_seconds - len(self._burst))),
            "X-HubSpot-RateLimit-Daily": str(self.daily),
            "X-HubSpot-RateLimit-Daily-Remaining": str(max(0, self.daily - self.daily_used)),
        }


def _slide(window: deque[float], now: float, span: float, limit: int) -> float:
    """Drop calls older than `span`; the wait until one more fits (0: it fits now)."""
    while window and now - window[0] >= span:
        window.popleft()
    if len(window) < limit:
        return 0.0
    return max(0.001, span - (now - window[0]))


def _until_midnight() -> float:
    now = dt.datetime.now(dt.UTC)
    midnight = dt.datetime.combine(now.date() + dt.timedelta(days=1), dt.time(), dt.UTC)
    return float(math.ceil((midnight - now).total_seconds()))
