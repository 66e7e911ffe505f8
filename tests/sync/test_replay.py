"""The first run's history replay commits a week at a time and a stopped replay resumes.

A first sync is stopped in the middle of its replay (its fifth replayed week fails): the
weeks before it stay committed with the replay's mark. The next sync replays only the weeks
left, fits, and scores the day; its history equals an uninterrupted replay of the same pulled
data. A dry run's replay leaves neither snapshots nor a mark.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from typing import Any

import pytest
from sqlalchemy import delete, select

import scoring.service
from model.db import transaction, upgrade
from model.tables import HealthSnapshot, RiskModelVersion, SyncCursor, SyncRun
from pulsehub.demo import sandbox_settings
from pulsehub.runtime import Runtime
from sandbox import Sandbox
from sync.replay import MARK, replay_history
from tests.sync.equivalence import SNAPSHOT_BOOKKEEPING, rows


class Stopped(Exception):
    """Stands for the process dying in the middle of the replay."""


@pytest.fixture
def sb():
    with Sandbox(accounts=30, seed=3) as sandbox:
        yield sandbox


def _days(rt: Runtime, before: dt.date) -> list[dt.date]:
    with rt.factory() as s:
        q = select(HealthSnapshot.as_of).where(HealthSnapshot.as_of < before).distinct()
        return sorted(s.scalars(q))


def _history(rt: Runtime, before: dt.date) -> list[dict[str, Any]]:
    with rt.factory() as s:
        return rows(s, HealthSnapshot, SNAPSHOT_BOOKKEEPING, HealthSnapshot.as_of < before)


def _mark(rt: Runtime) -> str | None:
    with rt.factory() as s:
        return s.scalar(select(SyncCursor.value).where(SyncCursor.stream == MARK))


def _heartbeat_step(rt: Runtime) -> str:
    with rt.factory() as s:
        run = s.scalars(select(SyncRun).order_by(SyncRun.id.desc())).first()
        assert run is not None
        return run.stats["progress"]["step"]


def test_a_stopped_replay_resumes_where_it_stopped(sb, tmp_path, monkeypatch) -> None:
    path = tmp_path / "replay.db"
    upgrade(f"sqlite:///{path}")
    rt = Runtime(sandbox_settings(sb.base_url, f"sqlite:///{path}"))
    today = dt.datetime.now(dt.UTC).date()
    real = scoring.service.score_all
    calls: list[dt.date] = []
    steps: list[str] = []

    def fifth_fails(session: Any, as_of: dt.date, *a: Any, **k: Any) -> dict[str, int]:
        calls.append(as_of)
        steps.append(_heartbeat_step(rt))  # what `pulsehub status` shows meanwhile
        if len(calls) == 5:
            raise Stopped(as_of)
        return real(session, as_of, *a, **k)

    with monkeypatch.context() as m:
        m.setattr(scoring.service, "score_all", fifth_fails)
        with pytest.raises(Stopped):
            rt.sync(as_of=today)
    assert len(_days(rt, today)) == 4, "the four weeks before the failure stayed committed"
    assert steps[0] == f"backfilling history: week 1 of 12 ({calls[0]})"
    assert steps[4] == f"backfilling history: week 5 of 12 ({calls[4]})"
    assert '"done": false' in (_mark(rt) or "")

    calls.clear()

    def counted(session: Any, as_of: dt.date, *a: Any, **k: Any) -> dict[str, int]:
        calls.append(as_of)
        return real(session, as_of, *a, **k)

    with monkeypatch.context() as m:
        m.setattr(scoring.service, "score_all", counted)
        report = rt.sync(as_of=today)
    assert report.errors == []
    replayed = [d for d in calls if d < today]
    assert len(replayed) == 8 and min(replayed) > _days(rt, today)[3], replayed
    assert {"backfilling history", "scoring"} <= set(report.steps), report.steps
    assert len(_days(rt, today)) == 12 and '"done": true' in (_mark(rt) or "")
    resumed = _history(rt, today)
    rt.close()

    # the same pulled data replayed in one go, on a copy
    copy = tmp_path / "whole.db"
    with sqlite3.connect(path) as src, sqlite3.connect(copy) as dst:
        src.backup(dst)
    whole = Runtime(sandbox_settings(sb.base_url, f"sqlite:///{copy}"))
    try:
        with transaction(whole.factory) as s:
            s.execute(delete(HealthSnapshot).where(HealthSnapshot.as_of < today))
            s.execute(delete(RiskModelVersion))
            s.execute(delete(SyncCursor).where(SyncCursor.stream == MARK))
        card = whole.job_config.scorecard
        replay_history(lambda: transaction(whole.factory), today, 12, card)
        assert _history(whole, today) == resumed
    finally:
        whole.close()


def test_a_dry_run_replays_nothing_a_later_run_depends_on(sb, tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'dry.db'}"
    upgrade(url)
    rt = Runtime(sandbox_settings(sb.base_url, url))
    try:
        today = dt.datetime.now(dt.UTC).date()
        report = rt.sync(dry_run=True, as_of=today)
        assert sum(report.bands.values()) > 0, "the dry run scored (and replayed) in memory"
        assert _days(rt, today) == [] and _mark(rt) is None
        rt.sync(as_of=today)
        assert len(_days(rt, today)) == 12
    finally:
        rt.close()
