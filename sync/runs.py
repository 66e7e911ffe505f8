"""A run's record in `sync_runs`: started, where it is (step + heartbeat), how it ended.

A process killed with SIGKILL (or a lost machine) never reaches the `finally` that marks its
run finished, so every run records its host, pid, current step and a heartbeat in
`stats["progress"]`. A run still `running` whose process is gone is *aborted*: on this host
when its pid no longer exists, elsewhere when its heartbeat is older than `STALE_AFTER`.
`reap_dead_runs` marks such rows `aborted`, dated at their last heartbeat and naming the step;
every new run, `pulsehub status` and the dashboard call it.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from connectors.records import parse_iso
from model.db import transaction
from model.tables import SyncRun, utcnow

log = logging.getLogger(__name__)

# a run on another host whose heartbeat is older than this is taken as dead (the job-lock TTL)
STALE_AFTER = dt.timedelta(hours=1)
HEARTBEAT_EVERY = dt.timedelta(seconds=30)


def progress(step: str, now: dt.datetime, *, local: bool = True) -> dict[str, Any]:
    """A run's `stats["progress"]`; `local=False` for a run whose stages run in several
    processes (distributed mode), which only the heartbeat's age can declare dead."""
    where = {"host": socket.gethostname(), "pid": os.getpid()} if local else {}
    return {**where, "step": step, "heartbeat_at": now.isoformat()}


def start_run(
    factory: sessionmaker[Session],
    kind: str,
    *,
    dry_run: bool = False,
    local: bool = True,
    stats: dict[str, Any] | None = None,
) -> int:
    """Reap runs whose process died, then record a new running run; returns its id."""
    with transaction(factory) as session:
        reap_dead_runs(session)
        first = {**(stats or {}), "progress": progress("starting", utcnow(), local=local)}
        run = SyncRun(kind=kind, dry_run=dry_run, stats=first)
        session.add(run)
        session.flush()
        return run.id


class Heartbeat:
    """Records the step a run is in; between steps, at most one write per `HEARTBEAT_EVERY`."""

    def __init__(self, factory: sessionmaker[Session], run_id: int, *, local: bool = True) -> None:
        """`local=False` for a run whose stages run in several processes (see `progress`)."""
        self.factory, self.run_id, self.local = factory, run_id, local
        self.step = "starting"
        self._last = utcnow()

    def enter(self, step: str) -> None:
        self.step = step
        self._write()

    def beat(self) -> None:
        if utcnow() - self._last >= HEARTBEAT_EVERY:
            self._write()

    def _write(self) -> None:
        self._last = utcnow()
        with transaction(self.factory) as session:  # row-locked: others may merge their stats
            run = session.get(SyncRun, self.run_id, with_for_update=True)
            if run is not None and run.status == "running":
                now = progress(self.step, self._last, local=self.local)
                run.stats = {**(run.stats or {}), "progress": now}


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def is_dead(run: SyncRun, now: dt.datetime) -> bool:
    """True when a `running` row's process is gone (see the module docstring)."""
    prog = (run.stats or {}).get("progress") or {}
    beat = parse_iso(prog.get("heartbeat_at")) or run.started_at
    if prog.get("host") == socket.gethostname() and isinstance(prog.get("pid"), int):
        return prog["pid"] != os.getpid() and not _pid_alive(prog["pid"])
    return now - beat > STALE_AFTER


def seen_state(run: SyncRun, now: dt.datetime | None = None) -> tuple[str, str | None]:
    """(status, error) as they stand: a `running` row whose process died reads `aborted`, with
    when and at which step — for displays that do not write (the dashboard)."""
    if run.status != "running" or not is_dead(run, now or utcnow()):
        return run.status, run.error
    prog = (run.stats or {}).get("progress") or {}
    beat = parse_iso(prog.get("heartbeat_at")) or run.started_at
    who = f"{prog['host']} pid {prog['pid']}" if "pid" in prog else "its workers"
    return "aborted", (
        f"aborted: the process ({who}) died during step '{prog.get('step', 'unknown')}'; "
        f"last heartbeat {beat:%Y-%m-%d %H:%M:%S} UTC"
    )


def doing(run: SyncRun, now: dt.datetime | None = None) -> str | None:
    """What a live `running` run is doing, for displays: its step and last heartbeat (a
    first sync's replay names its week). None for any other run."""
    if run.status != "running" or is_dead(run, now or utcnow()):
        return None
    prog = (run.stats or {}).get("progress") or {}
    beat = parse_iso(prog.get("heartbeat_at")) or run.started_at
    return f"now: {prog.get('step', 'starting')} (heartbeat {beat:%H:%M:%S} UTC)"


def reap_dead_runs(session: Session, now: dt.datetime | None = None) -> int:
    """Mark `running` rows whose process died as `aborted`; returns how many."""
    reaped = 0
    for run in session.scalars(select(SyncRun).where(SyncRun.status == "running")):
        status, error = seen_state(run, now)
        if status != "aborted":
            continue
        beat = parse_iso(((run.stats or {}).get("progress") or {}).get("heartbeat_at"))
        run.status, run.error, run.finished_at = status, error, beat or run.started_at
        log.warning("sync run %s %s", run.id, error)
        reaped += 1
    return reaped
