"""SIGKILL a sync at random points, restart it, and end exactly where a clean run ends.

Compared: every pulled row, snapshot, identity link, escalation and written value in the
database, and the sandbox's own state (fields, tags, created tickets) — no row lost or
duplicated, no ticket created twice. Iterations: PULSEHUB_CRASH_ITERATIONS (default 20).
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time

import pytest

from model.db import upgrade
from sandbox import Sandbox
from tests.reliability.crashkit import NOW, ROOT, db_state, sandbox_state, sync_cmd, sync_env

pytestmark = pytest.mark.slow

ITERATIONS = int(os.environ.get("PULSEHUB_CRASH_ITERATIONS", "20"))
ACCOUNTS = 30


def _run_to_completion(env: dict[str, str], rng: random.Random, kills: list[float]) -> None:
    """Start syncs, killing each after a random delay, until one finishes on its own."""
    for _ in range(200):
        proc = subprocess.Popen(
            sync_cmd(),
            env=env,
            cwd=str(ROOT),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        delay = rng.uniform(0.3, 4.0) if len(kills) < ITERATIONS else None
        try:
            _, err = proc.communicate(timeout=delay if delay is not None else 300)
            assert proc.returncode == 0, err.decode()[-2000:]
            return
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            kills.append(delay or 0.0)
    raise AssertionError("never finished")


def test_sigkill_at_random_points_ends_identical_to_a_clean_run(tmp_path) -> None:
    clean_db = f"sqlite:///{tmp_path / 'clean.db'}"
    crash_db = f"sqlite:///{tmp_path / 'crash.db'}"
    upgrade(clean_db)
    upgrade(crash_db)
    with Sandbox(accounts=ACCOUNTS, seed=3, now=NOW) as clean_sb:
        started = time.monotonic()
        subprocess.run(
            sync_cmd(),
            env=sync_env(clean_sb.base_url, clean_db),
            cwd=str(ROOT),
            check=True,
            capture_output=True,
        )
        clean_seconds = time.monotonic() - started
        expected_sandbox = sandbox_state(clean_sb)
    expected = db_state(clean_db)
    assert expected["written"], "the clean run must have written something"

    rng = random.Random(20261123)
    kills: list[float] = []
    with Sandbox(accounts=ACCOUNTS, seed=3, now=NOW) as crash_sb:
        env = sync_env(crash_sb.base_url, crash_db)
        while len(kills) < ITERATIONS:
            _run_to_completion(env, rng, kills)
        _run_to_completion(env, rng, kills)  # and once more after the last kill
        got_sandbox = sandbox_state(crash_sb)
    got = db_state(crash_db)

    for key in expected:
        assert got[key] == expected[key], f"{key} differs after {len(kills)} kills"
    assert got_sandbox["fields"] == expected_sandbox["fields"]
    assert got_sandbox["tags"] == expected_sandbox["tags"]
    assert got_sandbox["created"] == expected_sandbox["created"]  # no ticket/task created twice
    assert len(got_sandbox["created"]) == len(set(got_sandbox["created"]))
    print(f"clean run {clean_seconds:.1f}s; survived {len(kills)} SIGKILLs")
