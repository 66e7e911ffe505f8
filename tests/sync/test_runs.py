"""A run whose process died reads `aborted` (when, at which step), never `running` forever."""

from __future__ import annotations

import datetime as dt
import os
import socket
import subprocess
import sys

from sqlalchemy import select

from model.db import transaction
from model.tables import SyncRun, utcnow
from sync import runs


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def _running(factory, progress: dict) -> int:
    with transaction(factory) as s:
        run = SyncRun(kind="sync", stats={"progress": progress})
        s.add(run)
        s.flush()
        return run.id


def _row(factory, run_id: int) -> SyncRun:
    with factory() as s:
        run = s.get(SyncRun, run_id)
        assert run is not None
        s.expunge(run)
        return run


def test_a_run_whose_local_process_died_is_aborted_at_its_step(factory) -> None:
    beat = utcnow() - dt.timedelta(seconds=5)
    host = socket.gethostname()
    dead = _running(
        factory,
        {"host": host, "pid": _dead_pid(), "step": "scoring", "heartbeat_at": beat.isoformat()},
    )
    alive = _running(
        factory,
        {"host": host, "pid": os.getppid(), "step": "pulling", "heartbeat_at": beat.isoformat()},
    )
    with factory() as s:
        status, error = runs.seen_state(s.get(SyncRun, dead))
        assert status == "aborted" and "step 'scoring'" in (error or "")
    with transaction(factory) as s:
        assert runs.reap_dead_runs(s) == 1
    gone = _row(factory, dead)
    assert gone.status == "aborted" and gone.finished_at == beat
    assert "died during step 'scoring'" in (gone.error or "")
    assert _row(factory, alive).status == "running"


def test_a_run_on_another_host_is_aborted_only_when_its_heartbeat_is_stale(factory) -> None:
    now = utcnow()
    old = (now - runs.STALE_AFTER - dt.timedelta(minutes=1)).isoformat()
    recent = (now - dt.timedelta(minutes=5)).isoformat()
    stale = _running(factory, {"host": "other", "pid": 1, "step": "pushing", "heartbeat_at": old})
    fresh = _running(
        factory, {"host": "other", "pid": 1, "step": "pushing", "heartbeat_at": recent}
    )
    with transaction(factory) as s:
        assert runs.reap_dead_runs(s, now) == 1
    assert _row(factory, stale).status == "aborted"
    assert _row(factory, fresh).status == "running"


def test_a_new_run_reaps_dead_ones_and_records_its_own_progress(factory) -> None:
    host = socket.gethostname()
    dead = _running(factory, {"host": host, "pid": _dead_pid(), "step": "pulling"})
    run_id = runs.start_run(factory, "sync")
    assert _row(factory, dead).status == "aborted"
    mine = _row(factory, run_id)
    assert mine.status == "running"
    assert mine.stats["progress"]["pid"] == os.getpid()
    runs.Heartbeat(factory, run_id).enter("escalating")
    assert _row(factory, run_id).stats["progress"]["step"] == "escalating"
    with factory() as s:
        assert [r.status for r in s.scalars(select(SyncRun).order_by(SyncRun.id))] == [
            "aborted",
            "running",
        ]


def test_a_distributed_runs_heartbeat_names_no_process(factory) -> None:
    """Its stages run in several workers: only the heartbeat's age can declare it dead."""
    run_id = runs.start_run(factory, "sync", local=False)
    runs.Heartbeat(factory, run_id, local=False).enter("pushing")
    progress = _row(factory, run_id).stats["progress"]
    assert progress["step"] == "pushing" and "pid" not in progress and "host" not in progress
    assert not runs.is_dead(_row(factory, run_id), utcnow())


def test_a_live_run_says_what_it_is_doing_and_others_do_not(factory) -> None:
    host, beat = socket.gethostname(), utcnow().replace(microsecond=0)
    step = "backfilling history: week 5 of 12 (2026-10-02)"
    live = _running(
        factory, {"host": host, "pid": os.getpid(), "step": step, "heartbeat_at": beat.isoformat()}
    )
    dead = _running(factory, {"host": host, "pid": _dead_pid(), "step": "scoring"})
    assert runs.doing(_row(factory, live)) == f"now: {step} (heartbeat {beat:%H:%M:%S} UTC)"
    assert runs.doing(_row(factory, dead)) is None
    with transaction(factory) as s:
        s.get(SyncRun, live).status = "succeeded"
    assert runs.doing(_row(factory, live)) is None
