"""The distributed run's stages, called in one process in the order the Celery chords call
them: the same end state as the single-process run, first-run backfill and dry run included."""

from __future__ import annotations

import itertools
from collections import Counter
from typing import Any

import pytest
from sqlalchemy import func, select

from model.db import upgrade
from model.tables import HealthSnapshot, OutboxItem, SyncCursor, SyncRun, utcnow
from pulsehub.demo import sandbox_settings
from pulsehub.runtime import Runtime
from sandbox import Sandbox
from sync import distributed

WORLD = {"accounts": 40, "seed": 11}


@pytest.fixture
def sb():
    with Sandbox(**WORLD) as sandbox:
        yield sandbox


def _runtime(sb: Sandbox, url: str) -> Runtime:
    upgrade(url)
    return Runtime(sandbox_settings(sb.base_url, url))


def _distributed(
    rt: Runtime, *, dry_run: bool = False, range_size: int = distributed.SCORE_RANGE_SIZE
) -> dict[str, Any]:
    """start -> pull each source -> (resolve+backfill -> score ranges -> finish | dry run)."""
    as_of = utcnow().date()
    run_id = distributed.start_run(rt.factory, as_of, dry_run=dry_run)
    for source in sorted(rt.connectors):
        distributed.pull_source(rt.factory, rt.connectors, run_id, source, as_of)
    if dry_run:
        return distributed.decide_dry_run(rt.factory, rt.connectors, rt.job_config, run_id, as_of)
    ranges = distributed.resolve_and_split(
        rt.factory, rt.job_config, run_id, as_of, range_size=range_size
    )
    for lo, hi, ids in ranges:
        distributed.score_range(rt.factory, rt.job_config, run_id, as_of, lo, hi, ids)
    return distributed.finish_run(rt.factory, rt.connectors, rt.job_config, run_id, as_of)


def _weeks(rt: Runtime) -> int:
    with rt.factory() as s:
        return s.execute(select(func.count(func.distinct(HealthSnapshot.as_of)))).scalar_one()


def test_distributed_first_run_backfills_and_ends_like_the_single_process_run(sb, tmp_path) -> None:
    rt = _runtime(sb, f"sqlite:///{tmp_path / 'distributed.db'}")
    try:
        stats = _distributed(rt)
        assert stats["errors"] == [], stats
        assert _weeks(rt) == 13, "the first run replays 12 weekly snapshots before today's"
        distributed_writes = Counter(w["kind"] for w in sb.writes)
    finally:
        rt.close()
    with Sandbox(**WORLD) as twin:
        single = _runtime(twin, f"sqlite:///{tmp_path / 'single.db'}")
        try:
            report = single.sync()
            assert _weeks(single) == 13
            single_writes = Counter(w["kind"] for w in twin.writes)
        finally:
            single.close()
    assert stats["pulled"] == report.pulled
    assert stats["bands"] == report.bands
    assert stats["planned"] == report.planned
    assert stats["escalations"] == report.escalations
    assert distributed_writes == single_writes and distributed_writes["account_fields"] > 0


def test_distributed_dry_run_plans_and_rolls_back_what_it_decided(sb, tmp_path) -> None:
    rt = _runtime(sb, f"sqlite:///{tmp_path / 'dry.db'}")
    try:
        stats = _distributed(rt, dry_run=True)
        assert {"crm_account_fields", "helpdesk_ticket_tags"} <= set(stats["planned"])
        assert sum(stats["bands"].values()) > 0 and stats["identity"]
        assert sb.writes == []
        with rt.factory() as s:
            run = s.execute(select(SyncRun)).scalar_one()
            assert run.dry_run and run.status == "succeeded" and run.finished_at is not None
            assert s.execute(select(func.count()).select_from(OutboxItem)).scalar_one() == 0
            assert s.execute(select(func.count()).select_from(HealthSnapshot)).scalar_one() == 0
            cursors = {c.stream for c in s.execute(select(SyncCursor)).scalars()}
        assert {"salesforce.accounts", "zendesk.tickets", "usage.daily_usage"} <= cursors, (
            "the pulls are kept, like a single-process dry run's"
        )
    finally:
        rt.close()


def test_distributed_run_records_each_stage_interval_and_the_steps_inside(sb, tmp_path) -> None:
    rt = _runtime(sb, f"sqlite:///{tmp_path / 'timed.db'}")
    try:
        stats = _distributed(rt, range_size=15)
    finally:
        rt.close()
    with Sandbox(**WORLD) as twin:
        whole = _runtime(twin, f"sqlite:///{tmp_path / 'one_range.db'}")
        try:
            one_range = _distributed(whole)
        finally:
            whole.close()
    tasks = stats["tasks"]
    names = [t["task"] for t in tasks]
    pulls = [f"pull:{s}" for s in sorted(rt.connectors)]
    assert names[: len(pulls)] == pulls and names[len(pulls)] == "resolve"
    assert names[-1] == "finish"
    ranges = [
        tuple(map(int, n.removeprefix("score:").split("-"))) for n in names[len(pulls) + 1 : -1]
    ]
    assert len(ranges) >= 3 and all(hi - lo < 15 for lo, hi in ranges), ranges
    assert stats["bands"] == one_range["bands"], "the ranges together score every account"
    assert all(t["start"] <= t["end"] and ":" in t["worker"] for t in tasks)
    # called one after another here, so no interval begins before the previous one ended
    assert all(a["end"] <= b["start"] for a, b in itertools.pairwise(tasks))
    assert {"resolving identities", "backfilling history", "escalating", "planning write-back",
            "pushing"} <= set(stats["steps"])  # fmt: skip
    assert all(step["seconds"] >= 0 for step in stats["steps"].values())
