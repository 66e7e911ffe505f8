"""The sandbox clock modes: `real` (wall time, never behind it) or a fixed ISO start that flows.

The world's `Clock` flows from an anchor with monotonic time. Its anchor for a real-time world is
"now" truncated to the second, so on its own it runs up to a second behind the caller's clock,
and Zendesk's time-based exports refused `start_time=<now>` as "in the future". `WallClock`
replaces it once the world is generated: the caller's `time.time()` is never ahead of it.
"""

from __future__ import annotations

import datetime as dt
import threading

from sandbox.formats import parse_datetime
from sandbox.world import Clock

CLOCK_HELP = "real (follow this machine's clock) or an ISO start such as 2025-06-02T15:30:00Z"


class WallClock(Clock):
    """Wall time plus every `jump`; it never runs behind real time and never moves backwards."""

    def __init__(self, offset: dt.timedelta = dt.timedelta()) -> None:
        super().__init__(dt.datetime.now(dt.UTC))
        self._offset = offset
        self._last = self.anchor + offset
        self._lock = threading.Lock()

    @classmethod
    def following(cls, clock: Clock) -> WallClock:
        """A wall clock that continues `clock` (keeping any jump it has made ahead of real time)."""
        ahead = clock.now() - dt.datetime.now(dt.UTC)
        return cls(max(ahead, dt.timedelta()))

    def now(self) -> dt.datetime:
        """Current simulated time: wall time plus jumps (aware UTC)."""
        value = dt.datetime.now(dt.UTC) + self._offset
        with self._lock:
            if value < self._last:  # the system clock stepped back: hold, never go backwards
                return self._last
            self._last = value
        return value


def parse_clock(text: str) -> dt.datetime | None:
    """`real` -> None (follow wall time); an ISO datetime with an offset -> that start (UTC).

    Raises ValueError with a message that names the fix.
    """
    value = text.strip()
    if value.lower() == "real":
        return None
    try:
        return parse_datetime(value)
    except ValueError:
        raise ValueError(
            f"{text!r} is neither 'real' nor an ISO datetime with an offset; use {CLOCK_HELP}"
        ) from None
