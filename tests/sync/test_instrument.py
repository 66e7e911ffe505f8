"""A run's step clock: a step entered again adds to its seconds instead of replacing them."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from sync.instrument import StepClock, _malloc_trim

ROOT = Path(__file__).resolve().parents[2]


def test_a_step_entered_again_adds_to_its_seconds() -> None:
    clock = StepClock()
    clock.start("scoring")
    time.sleep(0.02)
    clock.start("backfilling history")
    clock.start("backfilling history")  # the next week of the same step: its clock runs on
    time.sleep(0.05)
    clock.start("scoring")
    time.sleep(0.02)
    clock.stop()
    assert set(clock.steps) == {"scoring", "backfilling history"}
    assert clock.steps["backfilling history"]["seconds"] >= 0.05
    assert clock.steps["scoring"]["seconds"] >= 0.04  # both stretches, not the last one alone


FREED_AT_STEP_END = """
import numpy as np
from sync.instrument import StepClock

def rss_mib():
    status = open("/proc/self/status").read().split("VmRSS:")[1]
    return int(status.split()[0]) / 1024

clock = StepClock()
clock.start("fitting")
big = np.ones(30_000_000 // 8)
del big  # glibc raises its mmap threshold: the next arrays come from the heap
arrays = [np.ones(20_000_000 // 8) for _ in range(5)]
kept = np.ones(1000)  # a later allocation above them keeps the heap from shrinking by itself
del arrays
before = rss_mib()
clock.stop()
print(before, rss_mib())
"""


@pytest.mark.skipif(not _malloc_trim() or sys.platform != "linux", reason="glibc only")
def test_the_memory_a_step_freed_is_handed_back_when_it_ends() -> None:
    """A process of its own: the test runner's heap would hide what one step frees."""
    out = subprocess.run(
        [sys.executable, "-c", FREED_AT_STEP_END],
        capture_output=True, text=True, check=True, cwd=ROOT,
    ).stdout  # fmt: skip
    before, after = map(float, out.split())
    assert before - after > 30, (before, after)  # freed by the step, held until handed back


PEAK_OF_A_BIG_PARENTS_CHILD = """
import subprocess, sys
big = bytearray(200 * 2**20)
big[::4096] = b"x" * len(big[::4096])  # resident, not just reserved
print(subprocess.run(
    [sys.executable, "-c", "from sync.instrument import peak_rss_mib; print(peak_rss_mib())"],
    capture_output=True, text=True, check=True,
).stdout.strip())
"""


@pytest.mark.skipif(sys.platform != "linux", reason="/proc/self/status")
def test_a_run_reports_its_own_peak_not_the_process_that_started_it() -> None:
    """A sync started by a 200 MiB process (a bench holding fingerprints) peaks at its own size:
    `ru_maxrss` survives exec and would report the parent's 200 MiB."""
    out = subprocess.run(
        [sys.executable, "-c", PEAK_OF_A_BIG_PARENTS_CHILD],
        capture_output=True, text=True, check=True, cwd=ROOT,
    ).stdout  # fmt: skip
    assert 0 < float(out) < 100, out
