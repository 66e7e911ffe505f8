"""Build a scored history from a sandbox world: the real sync into a fresh SQLite database.

Shared by `bench honest_score` and the scoring integration tests: generate the world for a
seed, pull it through the real pipeline (connectors over loopback HTTP, identity, scoring),
replay weekly snapshots over the usage window, and hand back the session factory.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from model.db import make_engine, make_session_factory, upgrade
from model.tables import SyncRun
from pulsehub.demo import sandbox_settings
from pulsehub.runtime import Runtime
from sandbox import Sandbox
from scoring.config import DEFAULT_SCORECARD

log = logging.getLogger(__name__)
BACKFILL_WEEKS = 25  # the sandbox serves 180 days of usage


def build_history(
    accounts: int,
    seed: int,
    directory: Path,
    *,
    backfill_weeks: int = BACKFILL_WEEKS,
    reuse: bool = False,
    any_scorecard: bool = False,
) -> sessionmaker[Session]:
    """Sync a fresh world of `accounts` for `seed` into `directory`/seed<N>.db, with history.

    With `reuse`, a database this function finished earlier for the same seed, size and
    default scorecard (its `.done` marker, written only after the sync succeeded, names the
    scorecard file's sha256: the stored scores depend on it) is opened instead of rebuilt, so
    a bench can build its worlds once and evaluate them later. `any_scorecard` accepts a
    database scored under another scorecard, for a caller that reads only the raw signals."""
    path = directory / f"seed{seed}.db"
    done = directory / f"seed{seed}.{accounts}.done"
    stamp = f"{accounts} accounts, {backfill_weeks} weeks, scorecard {_scorecard_hash()}\n"
    same = done.exists() and (any_scorecard or done.read_text() == stamp)
    if reuse and path.exists() and same:
        return make_session_factory(make_engine(f"sqlite:///{path}"))
    done.unlink(missing_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    url = f"sqlite:///{path}"
    upgrade(url)
    with Sandbox(accounts=accounts, seed=seed) as sb:
        anchor_path(directory, seed).write_text(sb.world.truth["anchor"].isoformat())
        rt = Runtime(sandbox_settings(sb.base_url, url, backfill_weeks=backfill_weeks))
        report = rt.sync(kind="history")
        if report.errors:
            raise RuntimeError(f"seed {seed}: sync failed: {report.errors[:3]}")
        log.info("seed %s synced: %s", seed, report.bands)
        done.write_text(stamp)
        return rt.factory


def anchor_path(directory: Path, seed: int) -> Path:
    """Where `build_history` keeps the moment its world was generated at."""
    return directory / f"seed{seed}.anchor"


def world_anchor(directory: Path, seed: int, session: Session) -> dt.datetime | None:
    """The moment seed `seed`'s world in `directory` was generated at (`sandbox.generate`
    regenerates the same world from it): the recorded one, or for a database built before it
    was recorded, when its first sync started (seconds later: the same hour, which is what the
    generator's draws were seen to depend on); None if it was never synced."""
    path = anchor_path(directory, seed)
    if path.exists():
        return dt.datetime.fromisoformat(path.read_text().strip())
    started = session.scalar(select(func.min(SyncRun.started_at)))
    return None if started is None else started.replace(tzinfo=dt.UTC)


def _scorecard_hash() -> str:
    return hashlib.sha256(DEFAULT_SCORECARD.read_bytes()).hexdigest()[:16]
