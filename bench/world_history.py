"""Build a scored history from a sandbox world: the real sync into a fresh SQLite database.

Shared by `bench honest_score` and the scoring integration tests: generate the world for a
seed, pull it through the real pipeline (connectors over loopback HTTP, identity, scoring),
replay weekly snapshots over the usage window, and hand back the session factory.
"""

from __future__ import annotations

import logging
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from model.db import upgrade
from pulsehub.demo import sandbox_settings
from pulsehub.runtime import Runtime
from sandbox import Sandbox

log = logging.getLogger(__name__)
BACKFILL_WEEKS = 25  # the sandbox serves 180 days of usage


def build_history(
    accounts: int, seed: int, directory: Path, *, backfill_weeks: int = BACKFILL_WEEKS
) -> sessionmaker[Session]:
    """Sync a fresh world of `accounts` for `seed` into `directory`/seed<N>.db, with history."""
    path = directory / f"seed{seed}.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    url = f"sqlite:///{path}"
    upgrade(url)
    with Sandbox(accounts=accounts, seed=seed) as sb:
        rt = Runtime(sandbox_settings(sb.base_url, url, backfill_weeks=backfill_weeks))
        report = rt.sync(kind="history")
        if report.errors:
            raise RuntimeError(f"seed {seed}: sync failed: {report.errors[:3]}")
        log.info("seed %s synced: %s", seed, report.bands)
        return rt.factory
