"""Named crash points for the reliability suite: die at an exact moment of a run.

`PULSEHUB_CRASH_AT=<point>[:<n>]` makes the process `os._exit(CRASH_EXIT)` the n-th time (default
the first) it reaches `crash_point(<point>)`: no `finally`, no rollback handler, no flush, as
with SIGKILL. Unset (production) a crash point is one dictionary lookup. The points, in the
order a run meets them, are `POINTS`; the suite in tests/reliability/ kills a run at each.
"""

from __future__ import annotations

import os
import sys

CRASH_EXIT = 86
POINTS = (
    "after_pull_page",  # a page and its cursor committed
    "after_identity",
    "after_score",  # snapshots committed
    "after_escalate",  # escalation rows and their outbox creations committed
    "after_plan",  # field/tag writes enqueued
    "mid_push",  # between two pushed batches
    "after_remote_write",  # the API accepted a batch; its result is not recorded yet
    "after_push",
)

_counts: dict[str, int] = {}


def _target() -> tuple[str, int] | None:
    raw = os.environ.get("PULSEHUB_CRASH_AT", "").strip()
    if not raw:
        return None
    name, _, nth = raw.partition(":")
    return name, int(nth) if nth.isdigit() else 1


_TARGET = _target()


def crash_point(name: str) -> None:
    """Exit at once if this is the configured point and occurrence (see module docstring)."""
    if _TARGET is None or _TARGET[0] != name:
        return
    _counts[name] = _counts.get(name, 0) + 1
    if _counts[name] == _TARGET[1]:
        sys.stderr.write(f"crash point {name}:{_counts[name]} reached: exiting\n")
        sys.stderr.flush()
        os._exit(CRASH_EXIT)
