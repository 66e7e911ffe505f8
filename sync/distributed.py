"""The sync split into stages that separate workers can run in parallel.

    start_run ─┬─ pull_source(crm)      ─┐
               ├─ pull_source(helpdesk) ─┼─ resolve_and_split ─┬─ score_range(task 1) ─┐
               └─ pull_source(usage)    ─┘  (+ backfill, plan)  ├─ score_range(task 2) ─┼─ finish_run
                                                                └─ ...                 ─┘  (parents,
                                                                          escalate, plan, push)
A dry run pulls the same way, then `decide_dry_run` resolves, scores, escalates and plans in
one transaction it rolls back (as the single-process dry run does), and closes the run.

The stages are the single-process run's own (sync/pull.py, sync/stages.py, sync/pipeline.py).
Sources are independent, so they pull in parallel; the streams of one source stay in order.
Scoring is as incremental as the single-process run's: the resolve stage plans which
accounts' inputs changed and splits only those into tasks (every account, by id range, on a
full pass), and the finish stage rolls parents up after them, then escalates and plans the
write-back over what changed (sync/distributed_score.py). Every stage merges its figures into the one SyncRun row
under a row lock, with its own interval in `stats["tasks"]` (name, worker process, wall-clock
start and end) so a run's record shows which stages ran side by side and where time went.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import time
from collections.abc import Mapping
from contextlib import suppress
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from connectors.base import Connector
from model.db import transaction
from model.identity import resolve_identities
from model.stats import analyze_stale
from model.tables import SyncRun, utcnow
from scoring.changes import band_counts
from sync import distributed_score, instances, outbox, runs, stages
from sync.distributed_score import ScoreTask
from sync.instrument import StepClock
from sync.jobs import all_routes
from sync.operations import run_operations
from sync.pipeline import decide, rolled_back
from sync.pull import (
    SourcesUnavailable,
    history_start,
    pull,
    select_streams,
)
from sync.report import RunReport
from sync.reviews import run_reviews
from sync.routes import write_targets
from sync.stages import JobConfig, backfill_first_run, escalate, push_outbox, write_back

SCORE_RANGE_SIZE = 5000


def start_run(factory: sessionmaker[Session], as_of: dt.date, *, dry_run: bool = False) -> int:
    return runs.start_run(
        factory,
        "sync:distributed",
        dry_run=dry_run,
        local=False,
        stats={"as_of": as_of.isoformat()},
    )


def _task(name: str, started: float) -> dict[str, Any]:
    """One stage's interval for `stats["tasks"]`: epoch seconds, comparable across hosts whose
    clocks agree, and the process that ran it (host:pid)."""
    return {
        "task": name,
        "worker": f"{socket.gethostname()}:{os.getpid()}",
        "start": round(started, 3),
        "end": round(time.time(), 3),
    }


def _locked_run(session: Session, run_id: int) -> SyncRun:
    """The run's row, locked until the transaction ends: stages finish concurrently."""
    return session.execute(
        select(SyncRun).where(SyncRun.id == run_id).with_for_update()
    ).scalar_one()


def _merge(
    factory: sessionmaker[Session], run_id: int, part: dict[str, Any], stage: str = "pulling"
) -> None:
    """Fold one stage's figures into the run's stats (row-locked: stages finish concurrently)."""
    with transaction(factory) as session:
        run = _locked_run(session, run_id)
        stats = dict(run.stats or {})
        for key, value in part.items():
            if isinstance(value, dict):
                stats[key] = {**(stats.get(key) or {}), **value}
            elif isinstance(value, list):
                stats[key] = [*(stats.get(key) or []), *value]
            else:
                stats[key] = value
        stats["progress"] = runs.progress(stage, utcnow(), local=False)
        run.stats = stats


def _errors(factory: sessionmaker[Session], run_id: int) -> list[str]:
    """The errors the run's stages have recorded so far."""
    with transaction(factory) as session:
        run = session.get(SyncRun, run_id)
        return list(((run.stats if run else None) or {}).get("errors") or [])


def pull_source(
    factory: sessionmaker[Session],
    connectors: Mapping[str, Connector],
    run_id: int,
    source: str,
    as_of: dt.date,
) -> dict[str, Any]:
    """Pull every stream of one source, in order."""
    started = time.time()
    report = RunReport(run_id=run_id, dry_run=False)
    connector = connectors[source]
    before = connector.calls
    streams = select_streams([connector], "all")
    # a failed source's error is in report.errors; the other sources' pulls go on
    with suppress(SourcesUnavailable):
        pull(factory, connectors, streams, report, reconcile=False, start=history_start(as_of))
    part = {
        "pulled": report.pulled,
        "quarantined": report.quarantined,
        "errors": report.errors,
        "api_calls": {source: connector.calls - before},
        "tasks": [_task(f"pull:{source}", started)],
    }
    _merge(factory, run_id, part)
    return part


def resolve_and_split(
    factory: sessionmaker[Session],
    config: JobConfig,
    run_id: int,
    as_of: dt.date,
    *,
    field_sources: Mapping[str, str] | None = None,
    range_size: int = SCORE_RANGE_SIZE,
) -> list[ScoreTask]:
    """Link identities, replay history on a first run after a complete pull, then plan the
    scoring (sync/distributed_score.py): only the accounts whose inputs changed, in lists of
    up to `range_size`, or on a full pass every account, in id ranges of `range_size` ids.
    The plan and the digests it compared commit before any scoring task starts.
    `field_sources`: see sync/instances.py."""
    started = time.time()
    clock = StepClock()
    with transaction(factory) as session:  # matching reads what the pulls just loaded
        analyze_stale(session)
    clock.start("resolving identities")
    with transaction(factory) as session:
        identity = resolve_identities(session, field_sources=field_sources)
    with transaction(factory) as session:  # the pulls and the links moved rows (model/stats.py)
        analyze_stale(session)
    if not _errors(factory, run_id):
        clock.start("backfilling history")
        backfill_first_run(lambda: transaction(factory), as_of, config)
    clock.start("planning scoring")
    with transaction(factory) as session:
        plan = distributed_score.plan(session, as_of, config, range_size)
    clock.stop()
    part = {
        "identity": identity,
        "incremental": plan.info,
        "score_plan": plan.stats(),
        "steps": clock.steps,
        "tasks": [_task("resolve", started)],
    }
    _merge(factory, run_id, part, "scoring")
    return plan.tasks


def score_range(
    factory: sessionmaker[Session],
    config: JobConfig,
    run_id: int,
    as_of: dt.date,
    lo: int,
    hi: int,
    ids: list[int] | None = None,
) -> int:
    """Score one task's accounts: `ids`, or every account with an id in [lo, hi] (parents are
    the finish stage's); returns how many were scored."""
    started = time.time()
    with transaction(factory) as session:
        n = distributed_score.score_task(session, as_of, config, lo, hi, ids)
    _merge(factory, run_id, {"tasks": [_task(f"score:{lo}-{hi}", started)]}, "scoring")
    return n


def finish_run(
    factory: sessionmaker[Session],
    connectors: Mapping[str, Connector],
    config: JobConfig,
    run_id: int,
    as_of: dt.date,
) -> dict[str, Any]:
    """Escalate, plan, enqueue and push; close the run."""
    started = time.time()
    clock = StepClock()
    with transaction(factory) as session:  # what the resolve stage planned (committed)
        run = session.get(SyncRun, run_id)
        plan = dict(((run.stats if run else None) or {}).get("score_plan") or {})
    full = bool(plan.get("full", True))
    clock.start("rolling up parents")
    with transaction(factory) as session:
        distributed_score.score_parents(session, as_of, config, plan.get("parents"))
        bands = band_counts(session, as_of)  # by the plan's stored digests
    escalations: dict[str, int] = {}
    incremental: dict[str, Any] = {}
    if config.rules is not None:
        clock.start("escalating")
        with transaction(factory) as session:  # rows and their creations commit together
            judged, digests, incremental = distributed_score.judged_by_escalation(
                session, as_of, config, full
            )
            systems = stages.action_systems(connectors, config)
            escalations, creates = escalate(session, as_of, config, systems, judged, digests)
            outbox.enqueue_creates(session, creates)
        if judged is not None:
            incremental["judged"] = len(judged)
    operations: dict[str, int] = {}
    if config.operations is not None:
        clock.start("onboarding and handoffs")
        with transaction(factory) as session:  # phase/handoff rows commit with their tasks
            systems = stages.action_systems(connectors, config)
            operations, ops = run_operations(session, as_of, config.operations, systems)
            outbox.enqueue_creates(session, ops)
    voice: dict[str, int] = {}
    if config.voice is not None:
        clock.start("routing feedback themes")
        with transaction(factory) as session:  # alerts and their owner tasks commit together
            systems = stages.action_systems(connectors, config)
            voice, creates = stages.route_voice(session, as_of, config, systems)
            outbox.enqueue_creates(session, creates)
    reviews: dict[str, int] = {}
    # renewal reviews, RCAs, access reviews: from a complete pull only (see sync.pipeline)
    if config.reviews is not None and not _errors(factory, run_id):
        clock.start("renewal reviews, RCAs, access reviews")
        with transaction(factory) as session:
            systems = stages.action_systems(connectors, config)
            reviews = run_reviews(
                session, utcnow(), config.reviews, systems,
                lambda page: outbox.enqueue_creates(session, page),
            )  # fmt: skip
    clock.start("planning write-back")
    with transaction(factory) as session:
        full_plan = "full score" if full else None
        summary, plan_info = write_back(session, config, write_targets(connectors), full=full_plan)
        planned = summary.planned
    if plan_info:
        incremental["plan"] = plan_info
    clock.start("pushing")
    routes = all_routes(connectors, config)
    beat = runs.Heartbeat(factory, run_id, local=False)  # a first sync's push takes minutes
    beat.enter("pushing")
    pushed = push_outbox(factory, connectors, routes, beat.beat) if routes else {}
    clock.stop()
    part = {
        "bands": bands,
        "incremental": incremental,
        "escalations": escalations,
        "operations": operations,
        "voice": voice,
        "reviews": reviews,
        "planned": planned,
        "pushed": pushed,
        "steps": clock.steps,
        "tasks": [_task("finish", started)],
    }
    _merge(factory, run_id, part, "pushing")
    return _close(factory, run_id)


def decide_dry_run(
    factory: sessionmaker[Session],
    connectors: Mapping[str, Connector],
    config: JobConfig,
    run_id: int,
    as_of: dt.date,
) -> dict[str, Any]:
    """After the pulls of a dry run: resolve, score, escalate and plan in one rolled-back
    transaction (sync/pipeline.py `rolled_back`); record what it came to; close the run."""
    report = RunReport(run_id=run_id, dry_run=True, errors=_errors(factory, run_id))
    clock = StepClock()

    def stage(name: str, count: int = 0, detail: str | None = None) -> None:
        clock.start(name)

    targets = write_targets(connectors)
    systems = stages.action_systems(connectors, config)
    with rolled_back(factory) as open_session:
        decide(
            open_session, config, targets, report, as_of, stage=stage, systems=systems,
            dry_run=True, field_sources=instances.field_sources(connectors.values()),
        )  # fmt: skip
    clock.stop()
    part = {
        "identity": report.identity,
        "bands": report.bands,
        "escalations": report.escalations,
        "operations": report.operations,
        "voice": report.voice,
        "planned": report.planned,
        "steps": clock.steps,
    }
    _merge(factory, run_id, part, "deciding (dry run, rolled back)")
    return _close(factory, run_id)


def _close(factory: sessionmaker[Session], run_id: int) -> dict[str, Any]:
    """Mark the run finished: partial when a stage recorded an error."""
    with transaction(factory) as session:
        run = session.get(SyncRun, run_id)
        assert run is not None
        errors = (run.stats or {}).get("errors") or []
        run.status = "partial" if errors else "succeeded"
        run.finished_at = utcnow()
        run.stats = {**(run.stats or {}), "seconds": (utcnow() - run.started_at).total_seconds()}
        return dict(run.stats)
