"""Run instrumentation: how long each pipeline stage took and the memory it peaked at; between
steps, the heap a finished step freed is handed back to the operating system."""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import time
from collections.abc import Callable
from dataclasses import dataclass, field


def peak_rss_mib() -> float:
    """This process's own peak resident memory so far, in MiB (0 where unknown).

    Linux: `VmHWM`, the high-water mark of this process's memory. Not `ru_maxrss`: that one
    survives exec, so a sync started by a process larger than itself reports its parent's size
    (a bench holding 170 MiB of fingerprints made every later sync "peak" at 170 MiB)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 1024, 1)
    except (OSError, ValueError):
        pass
    try:
        import resource
    except ImportError:  # not on Windows
        return 0.0
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    name = ctypes.util.find_library("c")
    try:
        return ctypes.CDLL(name).malloc_trim if name else None  # type: ignore[no-any-return]
    except (OSError, AttributeError):  # not glibc (musl, macOS, Windows): nothing to hand back
        return None


def release_freed_memory() -> None:
    """Hand the heap's free pages back to the OS (glibc `malloc_trim`), a no-op elsewhere.

    glibc keeps what a step freed for the process to reuse, and raises its mmap threshold
    after large arrays are freed, so later large allocations come from that heap too: after
    the 50,000-account refit ~50 MiB stayed resident though nothing held it, and the steps
    after it grew from there. Costs milliseconds."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@dataclass
class StepClock:
    """Seconds each pipeline step took and the process's peak RSS when it ended, so a run's
    record shows where time and memory went. A step entered again adds to its seconds. Each
    step's freed memory is released when it ends (`release_freed_memory`)."""

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
            release_freed_memory()
