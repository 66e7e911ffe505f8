"""Run instrumentation: how long each pipeline stage took and the memory it peaked at."""

from __future__ import annotations

import time
from dataclasses import dataclass, field


def peak_rss_mib() -> float:
    """This process's peak resident memory so far (Linux reports KiB), or 0 where unknown."""
    try:
        import resource
    except ImportError:  # not on Windows
        return 0.0
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


@dataclass
class StepClock:
    """Seconds each pipeline step took and the process's peak RSS when it ended, so a run's
    record shows where time and memory went. A step entered again adds to its seconds."""

    steps: dict[str, dict[str, float]] = field(default_factory=dict)
    _step: str | None = None
    _started: float = 0.0

    def start(self, step: str) -> None:
        if step == self._step:  # the same step again (a replay's next week): its clock runs on
            return
        self.stop()
        self._step, self._started = step, time.perf_counter()

    def stop(self) -> None:
        if self._step is not None:
            before = self.steps.get(self._step, {}).get("seconds", 0.0)
            took = round(before + time.perf_counter() - self._started, 2)
            self.steps[self._step] = {"seconds": took, "peak_rss_mib": peak_rss_mib()}
            self._step = None
