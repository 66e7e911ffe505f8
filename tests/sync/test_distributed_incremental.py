"""The distributed run is as incremental as the single-process one and decides the same.

One sandbox and one database go through runs of the distributed stages (called in one
process in the chords' order; the scoring tasks in reverse, as parallel workers may finish
them): the first sync, unchanged re-runs, 1% of every record kind changed, a child moved to
another parent, a run stopped between its scoring tasks and its finish, a scorecard change. After each step's pulls the database is copied and the
single-process run decides on the copy with a full re-score: the day's snapshots, the
escalations and the outbox must be equal. An unchanged run schedules no scoring task.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from model.db import transaction, upgrade
from model.tables import Account
from sandbox import Sandbox
from scoring.store import parent_ids
from sync import distributed
from tests.sync.equivalence import (
    computed_at,
    first_diff,
    recorded_run,
    runtime,
    scored_ids,
    state,
)

RANGE = 7  # accounts per scoring task: families end up split across tasks


@pytest.fixture
def sb():
    with Sandbox(accounts=60, seed=5) as sandbox:
        yield sandbox


class Runs:
    def __init__(self, sb: Sandbox, tmp: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.sb, self.tmp, self.path = sb, tmp, tmp / "distributed.db"
        upgrade(f"sqlite:///{self.path}")
        self.rt = runtime(sb, f"sqlite:///{self.path}", full=False)
        self.steps = 0
        # the outbox is compared before it is pushed; the step drains it afterwards
        monkeypatch.setattr(distributed, "push_outbox", lambda *a, **k: {})

    def step(self, as_of: dt.date, adjust: Any = None) -> tuple[dict[str, Any], int]:
        """Pull, copy, then the distributed stages here and a full single-process decision on
        the copy; returns the run's stats and how many of the day's snapshots it (re)wrote."""
        self.steps += 1
        rt, copy = self.rt, self.tmp / f"full-{self.steps}.db"
        run_id = distributed.start_run(rt.factory, as_of)
        for source in sorted(rt.connectors):
            distributed.pull_source(rt.factory, rt.connectors, run_id, source, as_of)
        with sqlite3.connect(self.path) as src, sqlite3.connect(copy) as dst:
            src.backup(dst)
        full = runtime(self.sb, f"sqlite:///{copy}", full=True)
        if adjust is not None:
            adjust(rt), adjust(full)
        before = computed_at(rt, as_of)
        tasks = distributed.resolve_and_split(rt.factory, rt.job_config, run_id, as_of,
                                              range_size=RANGE)  # fmt: skip
        with rt.factory() as s:
            parents = set(parent_ids(s))
        assert not any(set(ids or ()) & parents for _, _, ids in tasks), "parents are finished"
        for lo, hi, ids in reversed(tasks):
            distributed.score_range(rt.factory, rt.job_config, run_id, as_of, lo, hi, ids)
        stats = distributed.finish_run(rt.factory, rt.connectors, rt.job_config, run_id, as_of)
        want = recorded_run(full, as_of)
        rescored = sum(1 for a, t in computed_at(rt, as_of).items() if before.get(a) != t)
        got, wanted = state(rt, as_of), state(full, as_of)
        for part in wanted:
            assert got[part] == wanted[part], f"step {self.steps}: {part} differ: " + first_diff(
                got[part], wanted[part]
            )
        assert stats["errors"] == [], stats
        assert (stats["bands"], stats["escalations"]) == (want.bands, want.escalations)
        assert stats["planned"] == want.planned
        stats["score_tasks"] = len(tasks)
        full.engine.dispose()
        rt.drain()
        self.sb.tick(120)  # past the exports' one-minute lag
        return stats, rescored

    def stop_before_finish(self, as_of: dt.date, adjust: Any) -> None:
        """A run whose worker died after its scoring tasks committed: the finish (parents'
        roll-up, escalation, plan) never ran and the run row stays `running`."""
        rt = self.rt
        run_id = distributed.start_run(rt.factory, as_of)
        for source in sorted(rt.connectors):
            distributed.pull_source(rt.factory, rt.connectors, run_id, source, as_of)
        adjust(rt)
        tasks = distributed.resolve_and_split(rt.factory, rt.job_config, run_id, as_of,
                                              range_size=RANGE)  # fmt: skip
        for lo, hi, ids in tasks:
            distributed.score_range(rt.factory, rt.job_config, run_id, as_of, lo, hi, ids)

    def settle(self, as_of: dt.date) -> dict[str, Any]:
        """Re-run unchanged (reading back what the write-back moved) until a run re-scores
        nothing; returns that run's stats."""
        for _ in range(4):
            stats, rescored = self.step(as_of)
            if rescored == 0:
                return stats
        raise AssertionError("unchanged runs kept re-scoring")


def test_distributed_runs_score_what_changed_and_decide_what_a_full_score_decides(
    sb, tmp_path, monkeypatch
) -> None:
    runs = Runs(sb, tmp_path, monkeypatch)
    today = dt.datetime.now(dt.UTC).date()

    stats, rescored = runs.step(today)  # the first sync: every account, by id range
    assert stats["score_plan"]["full"] and rescored > 30 and stats["score_tasks"] >= 5
    assert stats["score_plan"]["parents"] is None, "a full pass rolls every parent up"

    stats = runs.settle(today)
    assert stats["score_tasks"] == 0, "an unchanged run schedules no scoring task"
    assert not stats["score_plan"]["full"] and stats["incremental"]["judged"] == 0

    sb.change(0.01, seed=3)  # 1% of every record kind
    stats, rescored = runs.step(today)
    assert rescored > 0
    runs.settle(today)

    with runs.rt.factory() as s:
        parents = parent_ids(s)
        loners = s.scalars(
            select(Account.id).where(Account.parent_id.is_(None), Account.id.not_in(parents))
        )
        child = next(a for a in loners if a in scored_ids(runs.rt, today))
    assert parents, "the world holds account families"

    def reparent(rt: Any) -> None:
        with transaction(rt.factory) as s:
            row, parent = s.get(Account, child), s.get(Account, parents[0])
            assert row is not None and parent is not None
            row.parent_crm_id, row.parent_id = parent.crm_id, parent.id

    stats, rescored = runs.step(today, reparent)  # the parent's roll-up changes
    assert not stats["score_plan"]["full"] and parents[0] in stats["score_plan"]["parents"]
    assert rescored >= 2

    def grow(rt: Any) -> None:
        with transaction(rt.factory) as s:
            row = s.get(Account, child)
            assert row is not None
            row.arr = (row.arr or 0.0) * 2 + 1000.0

    # the child's ARR doubles (the parent's own inputs do not change) and the run dies before
    # its finish: the next run, with nothing else changed, still rolls the parent up from
    # what the stopped run committed
    runs.stop_before_finish(today, grow)
    stats, _ = runs.step(today)
    assert stats["incremental"]["parents_behind"] >= 1
    assert parents[0] in stats["score_plan"]["parents"]

    def fewer_reasons(rt: Any) -> None:
        cfg = rt.job_config
        cfg.scorecard = cfg.scorecard.model_copy(update={"max_reasons": 2})

    stats, _ = runs.step(today, fewer_reasons)  # a scorecard change: a full pass again
    assert stats["score_plan"]["full"]
