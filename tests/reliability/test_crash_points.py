"""Kill a sync at every named crash point (twice in a row), then let one finish: the end
state is the clean run's, nothing is lost or doubled, and no run is left `running`.

Deterministic where test_crash.py is random: `PULSEHUB_CRASH_AT=<point>` makes the process
`os._exit` exactly there (sync/crashpoints.py). Compared with a clean run on an identical
sandbox: every pulled row, snapshot, identity link, escalation, written value and open outbox
item, and everything the sandbox received (final fields, tags, created tickets, tasks and
comments — each once). The same for a dry run killed at each point it reaches, and for a dry
run followed by a real run.
"""

from __future__ import annotations

import subprocess
from typing import Any

import pytest
from sqlalchemy import select

from model.db import make_engine, make_session_factory, upgrade
from model.tables import SyncRun
from sandbox import Sandbox
from sync.crashpoints import CRASH_EXIT, POINTS
from tests.reliability.crashkit import NOW, ROOT, db_state, sandbox_state, sync_cmd, sync_env

pytestmark = pytest.mark.slow

ACCOUNTS = 30
SEED = 13  # a world whose first sync opens engineering tickets and owner tasks
DRY_RUN_POINTS = (
    "after_pull_page",
    "after_identity",
    "after_score",
    "after_escalate",
    "after_plan",
)


def _sync(env: dict[str, str], *extra: str, crash_at: str | None = None) -> int:
    run_env = dict(env)
    run_env.pop("PULSEHUB_CRASH_AT", None)
    if crash_at is not None:
        run_env["PULSEHUB_CRASH_AT"] = crash_at
    proc = subprocess.run(
        sync_cmd(*extra), env=run_env, cwd=str(ROOT), capture_output=True, timeout=600
    )
    if proc.returncode not in (0, CRASH_EXIT):
        raise AssertionError(proc.stderr.decode()[-3000:])
    return proc.returncode


def _runs(db_url: str) -> list[tuple[str, str | None, bool]]:
    engine = make_engine(db_url)
    try:
        with make_session_factory(engine)() as s:
            rows = s.execute(select(SyncRun.status, SyncRun.error, SyncRun.dry_run)).all()
            return [(st, err, dry) for st, err, dry in rows]
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def clean(tmp_path_factory) -> dict[str, Any]:
    """One uninterrupted sync on a fresh sandbox and database: the end state to reach."""
    db = f"sqlite:///{tmp_path_factory.mktemp('clean') / 'clean.db'}"
    upgrade(db)
    with Sandbox(accounts=ACCOUNTS, seed=SEED, now=NOW) as sb:
        assert _sync(sync_env(sb.base_url, db)) == 0
        received = sandbox_state(sb)
    state = db_state(db)
    assert state["written"] and received["created"], "the clean run must write and create"
    assert any(c.startswith("ticket ") for c in received["created"])
    assert any(c.startswith("task ") for c in received["created"])
    return {"db": state, "sandbox": received}


def _assert_same_end(clean: dict[str, Any], db_url: str, sb: Sandbox, label: str) -> None:
    got, received = db_state(db_url), sandbox_state(sb)
    for key, want in clean["db"].items():
        assert got[key] == want, f"{label}: {key} differs from the clean run"
    for key in ("fields", "tags", "created"):
        assert received[key] == clean["sandbox"][key], f"{label}: sandbox {key} differs"
    created = received["created"]
    assert len(created) == len(set(created)), f"{label}: something was created twice"
    runs = _runs(db_url)
    assert not [r for r in runs if r[0] == "running"], f"{label}: a run was left running"


@pytest.mark.parametrize("point", POINTS)
def test_killed_twice_at_a_point_then_a_normal_run_ends_as_the_clean_run(
    point: str, clean: dict[str, Any], tmp_path
) -> None:
    db = f"sqlite:///{tmp_path / 'crash.db'}"
    upgrade(db)
    with Sandbox(accounts=ACCOUNTS, seed=SEED, now=NOW) as sb:
        env = sync_env(sb.base_url, db)
        assert _sync(env, crash_at=point) == CRASH_EXIT, f"{point} was never reached"
        status = subprocess.run(
            [*sync_cmd()[:3], "status"],
            env={**env, "COLUMNS": "250"},
            cwd=str(ROOT),
            capture_output=True,
            text=True,
        )
        assert "aborted" in status.stdout and "died during step" in status.stdout, status.stdout
        second = _sync(env, crash_at=point)  # the rerun may have nothing left at this point
        assert _sync(env) == 0
        _assert_same_end(clean, db, sb, point)
    aborted = [r for r in _runs(db) if r[0] == "aborted"]
    assert len(aborted) == (2 if second == CRASH_EXIT else 1)
    assert all("died during step" in (err or "") for _, err, _ in aborted)


@pytest.mark.parametrize("point", DRY_RUN_POINTS)
def test_a_dry_run_killed_at_a_point_then_a_real_run_ends_as_the_clean_run(
    point: str, clean: dict[str, Any], tmp_path
) -> None:
    db = f"sqlite:///{tmp_path / 'dry.db'}"
    upgrade(db)
    with Sandbox(accounts=ACCOUNTS, seed=SEED, now=NOW) as sb:
        env = sync_env(sb.base_url, db)
        assert _sync(env, "--dry-run", crash_at=point) == CRASH_EXIT, f"{point} never reached"
        assert not sb.writes, "a dry run wrote to the sandbox"
        assert _sync(env) == 0
        _assert_same_end(clean, db, sb, f"dry run killed at {point}")


def test_a_dry_run_then_a_real_run_creates_every_ticket_and_task(
    clean: dict[str, Any], tmp_path
) -> None:
    """Regression: the dry run stored escalations without their actions, and the real run
    then created none of the tickets and tasks."""
    db = f"sqlite:///{tmp_path / 'dry.db'}"
    upgrade(db)
    with Sandbox(accounts=ACCOUNTS, seed=SEED, now=NOW) as sb:
        env = sync_env(sb.base_url, db)
        assert _sync(env, "--dry-run") == 0
        assert not sb.writes, "a dry run wrote to the sandbox"
        assert _sync(env) == 0
        _assert_same_end(clean, db, sb, "dry run then real run")
