"""Calendar helpers for generation: a working-hours timestamp on a day, the next anniversary."""

from __future__ import annotations

import datetime as dt
import random

from sandbox.formats import UTC


def at(day: int, rng: random.Random, hour_lo: int = 8, hour_hi: int = 18) -> dt.datetime:
    """A datetime on day ordinal `day` during working hours."""
    d = dt.date.fromordinal(day)
    seconds = rng.randrange(hour_lo * 3600, hour_hi * 3600)
    return dt.datetime(d.year, d.month, d.day, tzinfo=UTC) + dt.timedelta(seconds=seconds)


def anniversary_after(since: dt.date, day: dt.date) -> dt.date:
    """The first anniversary of `since` on or after `day` (29 Feb falls back to the 28th)."""
    years = max(1, day.year - since.year)
    while True:
        try:
            candidate = since.replace(year=since.year + years)
        except ValueError:  # 29 Feb
            candidate = since.replace(year=since.year + years, day=28)
        if candidate >= day:
            return candidate
        years += 1
