"""Book-wide dashboard aggregates are computed once per sync run, then served from memory."""

from __future__ import annotations

from model.db import transaction
from model.tables import SyncRun
from reporting.common import per_run


def test_cached_until_a_run_starts_or_finishes(factory) -> None:
    calls: list[int] = []

    def compute() -> int:
        calls.append(1)
        return len(calls)

    with factory() as s:
        assert per_run(s, ("support", 1), compute) == 1
        assert per_run(s, ("support", 1), compute) == 1  # same data: no second read
        assert per_run(s, ("support", 2), compute) == 2  # another day is another entry
    with transaction(factory) as s:
        s.add(SyncRun(kind="sync", dry_run=False))
    with factory() as s:
        assert per_run(s, ("support", 1), compute) == 3  # a run started: read again
    with transaction(factory) as s:
        run = s.query(SyncRun).one()
        run.status = "succeeded"
    with factory() as s:
        assert per_run(s, ("support", 1), compute) == 4  # and again when it finished
        assert per_run(s, ("support", 1), compute) == 4
