"""One sync run, stage by stage: pull (and map) -> resolve -> score -> escalate -> plan ->
enqueue -> push.

Every decision a later stage acts on is committed with what acts on it: escalation rows and
their outbox creations in one transaction, so a crash between stages loses nothing. A dry
run pulls (kept like any pull: the next run would read the same pages) and then resolves,
scores, escalates and plans in one transaction that it rolls back, so it leaves nothing a
later run depends on.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, nullcontext
from typing import Protocol

from sqlalchemy.orm import Session, sessionmaker

from connectors.base import Connector
from model.db import transaction
from model.identity import resolve_identities
from model.stats import analyze_stale
from model.tables import SyncRun, utcnow
from sync import outbox, runs
from sync.crashpoints import crash_point
from sync.escalate import EscalationSystems
from sync.instances import field_sources
from sync.instrument import StepClock
from sync.operations import run_operations
from sync.pull import (
    DEFAULT_HISTORY_DAYS,
    OnProgress,
    Selector,
    SourcesUnavailable,
    history_start,
    pull,
    select_streams,
)
from sync.push import Route
from sync.replay import OpenSession
from sync.report import RunReport, api_calls, api_quota
from sync.reviews import run_reviews
from sync.routes import write_targets
from sync.stages import (
    JobConfig,
    action_systems,
    alert_failed_run,
    backfill_first_run,
    escalate,
    push_outbox,
    route_voice,
    score,
    score_changed,
    write_back,
)
from sync.writeback import WriteTargets


class Stage(Protocol):
    """Enters a named stage (`count`: how many items it starts with, where known; `detail`:
    what the run's heartbeat shows instead of the name, e.g. the week a replay is at)."""

    def __call__(self, name: str, count: int = 0, detail: str | None = None) -> None: ...


def run_sync(
    factory: sessionmaker[Session],
    connectors: Mapping[str, Connector],
    config: JobConfig,
    *,
    routes: dict[str, Route] | None = None,
    dry_run: bool = False,
    as_of: dt.date | None = None,
    kind: str = "sync",
    streams: Selector = "all",
    scope: list[int] | None = None,
    errors: Sequence[str] = (),
    history_days: int = DEFAULT_HISTORY_DAYS,
    progress: OnProgress | None = None,
) -> RunReport:
    """Run the whole pipeline once and record it as a SyncRun.

    streams: which streams are read (see `sync.pull.Selector`); scope: a targeted refresh
    scores, escalates and plans only these accounts; routes: how the outbox is pushed (none:
    nothing is pushed). `progress(step, count)` is told of every pulled page and of each
    later stage as it starts.
    """
    tell: OnProgress = progress or (lambda step, n: None)
    clock = StepClock()
    started = time.perf_counter()
    as_of = as_of or utcnow().date()
    run_id = runs.start_run(factory, kind, dry_run=dry_run)
    beat = runs.Heartbeat(factory, run_id)

    def stage(name: str, count: int = 0, detail: str | None = None) -> None:
        clock.start(name)
        beat.enter(detail or name)
        tell(name, count)

    def quiet(name: str, count: int = 0, detail: str | None = None) -> None:
        # no heartbeat write: the dry run's open transaction holds SQLite's write lock
        clock.start(name)
        tell(name, count)

    def on_page(name: str, n: int) -> None:
        beat.beat()
        tell(name, n)

    report = RunReport(run_id=run_id, dry_run=dry_run, errors=list(errors))
    targets = write_targets(connectors)  # what each connector's writer plans from snapshots
    systems = action_systems(connectors, config)  # where escalation actions go
    named_by = field_sources(connectors.values())  # whose ids account fields name
    calls_before = api_calls(connectors)
    status = "failed"
    try:
        stage("pulling")
        planned = select_streams(connectors.values(), streams)
        reconcile = streams == "reconcile"
        start = history_start(as_of, history_days)
        pull(
            factory, connectors, planned, report, reconcile=reconcile, start=start, progress=on_page
        )
        if dry_run:
            beat.enter("deciding (dry run, rolled back)")
            with rolled_back(factory) as open_session:
                decide(
                    open_session, config, targets, report, as_of, scope=scope,
                    full_relink=reconcile, stage=quiet, systems=systems, dry_run=True,
                    field_sources=named_by,
                )  # fmt: skip
        else:
            total = decide(
                lambda: transaction(factory), config, targets, report, as_of, scope=scope,
                full_relink=reconcile, stage=stage, systems=systems, field_sources=named_by,
            )  # fmt: skip
            if routes:
                stage("pushing", total)
                report.pushed = push_outbox(factory, connectors, routes, beat.beat)
                crash_point("after_push")
        status = "partial" if report.errors else "succeeded"
    except Exception as exc:
        report.errors.append(f"{type(exc).__name__}: {exc}")
        if isinstance(exc, SourcesUnavailable) and not dry_run:
            message = f"pulsehub {kind} run {run_id} failed: {exc}"
            alert_failed_run(factory, config, routes or {}, run_id, message)
        raise
    finally:
        clock.stop()
        report.steps = clock.steps
        report.seconds = time.perf_counter() - started
        after = api_calls(connectors)
        report.api_calls = {k: after[k] - calls_before.get(k, 0) for k in after}
        report.quota = api_quota(connectors)
        record_run(factory, report, status)
    return report


def decide(
    open_session: OpenSession,
    config: JobConfig,
    targets: WriteTargets,
    report: RunReport,
    as_of: dt.date,
    *,
    scope: list[int] | None = None,
    full_relink: bool = False,
    stage: Stage,
    systems: EscalationSystems,
    dry_run: bool = False,
    field_sources: Mapping[str, str] | None = None,
    now: dt.datetime | None = None,
) -> int:
    """resolve -> score -> escalate -> plan -> enqueue, each stage in its own `open_session()`
    (a real run: a transaction each; escalation rows commit together with the outbox creations
    that carry out their actions). Returns how many writes were planned.

    Every stage judges at one instant, `now` (the clock at the start when not given): an
    override's expiry, a cool-down, an RCA's due time are read alike by every stage."""
    now = now or utcnow()
    with open_session() as session:  # matching reads what the pull just loaded
        analyze_stale(session)
    stage("resolving identities")
    with open_session() as session:
        report.identity = resolve_identities(
            session, full_relink=full_relink, field_sources=field_sources
        )
    crash_point("after_identity")
    with open_session() as session:  # the pull and the links moved rows: plan on fresh statistics
        analyze_stale(session)
    stage("scoring")
    if scope is None and not report.errors:  # history is replayed after a complete pull only
        backfill(open_session, as_of, config, stage)
    with open_session() as session:
        if scope is None:  # only accounts whose inputs changed, unless config.incremental=False
            scored = score_changed(session, as_of, config, now)
            report.bands, judged, report.incremental = scored.bands, scored.judged, scored.info
            digests = scored.digests
        else:
            report.bands, judged, digests = score(session, as_of, config, scope), scope, None
    crash_point("after_score")
    # a dry run's creations, counted by kind with the plan; a real run queues each stage's in
    # its transaction and keeps none (a first sync at 50,000 accounts creates ~10,000 tasks)
    would_create: Counter[str] = Counter()

    def queue(session: Session, requests: Sequence[outbox.CreateRequest]) -> None:
        if dry_run:
            would_create.update(r.kind for r in requests)
        else:
            outbox.enqueue_creates(session, requests)

    if config.rules is not None:
        stage("escalating")
        with open_session() as session:
            report.escalations, creates = escalate(
                session, as_of, config, systems, judged, digests, now
            )
            queue(session, creates)
            del creates
        crash_point("after_escalate")
    if config.operations is not None:
        stage("onboarding and handoffs")
        with open_session() as session:  # phase/handoff rows commit with the tasks they queue
            report.operations, ops = run_operations(
                session, as_of, config.operations, systems, scope, now=now
            )
            queue(session, ops)
            del ops
    if config.voice is not None and scope is None:  # themes are book-wide
        stage("routing feedback themes")
        with open_session() as session:  # alerts commit with their owner tasks' creations
            report.voice, voice_creates = route_voice(session, as_of, config, systems)
            queue(session, voice_creates)
            del voice_creates
    # once-only tasks (a renewal's review, a quarter's access review) are written from a
    # complete pull only: a source that failed would leave them with half the facts for good
    if config.reviews is not None and scope is None and not report.errors:
        stage("renewal reviews, RCAs, access reviews")
        with open_session() as session:
            report.reviews = run_reviews(
                session, now, config.reviews, systems, lambda page: queue(session, page)
            )
    stage("planning write-back")
    with open_session() as session:  # the plan's mark commits with the writes it queued
        full = "full score" if scope is None and judged is None else None
        summary, plan_info = write_back(session, config, targets, scope, full=full, dry_run=dry_run)
    report.planned, report.plan_sample = summary.planned, summary.sample
    if plan_info:
        report.incremental["plan"] = plan_info
    for kind, n in would_create.items():  # what the real run would create, counted with the plan
        report.planned[kind] = report.planned.get(kind, 0) + n
    crash_point("after_plan")
    return summary.total


def backfill(open_session: OpenSession, as_of: dt.date, config: JobConfig, stage: Stage) -> None:
    """A first run's history replay (sync/replay.py), a committed week at a time, as its own
    step whose heartbeat names the week; scoring goes on after it."""
    replayed: list[int] = []

    def on_week(number: int, weeks: int, day: dt.date) -> None:
        replayed.append(number)
        stage(
            "backfilling history", number, f"backfilling history: week {number} of {weeks} ({day})"
        )

    backfill_first_run(open_session, as_of, config, on_week)
    if replayed:
        stage("scoring")


@contextmanager
def rolled_back(factory: sessionmaker[Session]) -> Iterator[OpenSession]:
    """For a dry run's `decide`: every stage opens the same session, rolled back at the end."""
    with factory() as session:
        try:
            yield lambda: nullcontext(session)
        finally:
            session.rollback()


def record_run(factory: sessionmaker[Session], report: RunReport, status: str) -> None:
    """Close the run's SyncRun row with its status, stats and errors."""
    with transaction(factory) as session:
        row = session.get(SyncRun, report.run_id)
        if row is not None:
            row.status, row.finished_at, row.stats = status, utcnow(), report.stats()
            row.error = "; ".join(report.errors) or None
