"""One sync run: pull -> resolve identity -> score -> escalate -> plan -> push.

Each pulled page is upserted with its cursor in one transaction, so a crash at any point
loses nothing and duplicates nothing: the next run resumes from the last committed cursor.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session, sessionmaker

from connectors.errors import ConnectorError
from model.db import transaction
from model.identity import resolve_identities
from model.tables import QuarantinedRecord, SyncRun, utcnow
from model.upsert import upsert_rows
from sync import cursors, outbox, runs
from sync.crashpoints import crash_point
from sync.deadband import DeadBand
from sync.heap import long_lived_frozen
from sync.mapping import SINKS, Sink
from sync.writeback import PlannedWrite, WriteTargets, plan_chunks

log = logging.getLogger(__name__)

OnProgress = Callable[[str, int], None]

# Streams whose first sync needs a start date (history beyond it is not pulled).
DATED_STREAMS = frozenset({("usage", "daily_usage")})
DEFAULT_HISTORY_DAYS = 180

STREAM_ORDER: tuple[tuple[str, str], ...] = (
    ("salesforce", "accounts"),
    ("salesforce", "opportunities"),
    ("salesforce", "contacts"),
    ("zendesk", "organizations"),
    ("zendesk", "tickets"),  # with metrics (include=metric_sets) and CSAT
    ("usage", "workspaces"),
    ("usage", "daily_usage"),
)


@dataclass
class RunReport:
    run_id: int
    dry_run: bool
    pulled: dict[str, int] = field(default_factory=dict)
    quarantined: dict[str, int] = field(default_factory=dict)
    deleted: dict[str, int] = field(default_factory=dict)
    identity: dict[str, int] = field(default_factory=dict)
    bands: dict[str, int] = field(default_factory=dict)
    escalations: dict[str, int] = field(default_factory=dict)
    planned: dict[str, int] = field(default_factory=dict)  # writes per kind
    plan_sample: list[PlannedWrite] = field(default_factory=list)  # the first few, for a dry run
    pushed: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)
    api_calls: dict[str, int] = field(default_factory=dict)
    quota: dict[str, Any] = field(default_factory=dict)
    steps: dict[str, dict[str, float]] = field(default_factory=dict)  # see StepClock

    def stats(self) -> dict[str, Any]:
        return {
            "pulled": self.pulled,
            "quarantined": self.quarantined,
            "deleted": self.deleted,
            "identity": self.identity,
            "bands": self.bands,
            "escalations": self.escalations,
            "planned": self.planned,
            "pushed": self.pushed,
            "seconds": round(self.seconds, 3),
            "errors": self.errors,
            "api_calls": self.api_calls,
            "quota": self.quota,
            "steps": self.steps,
        }


def peak_rss_mib() -> float:
    """This process's peak resident memory so far (Linux reports KiB), or 0 where unknown."""
    try:
        import resource
    except ImportError:  # not on Windows
        return 0.0
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


@dataclass
class StepClock:
    """Seconds each pipeline step took and the process's peak RSS when it ended, so a run's
    record shows where time and memory went."""

    steps: dict[str, dict[str, float]] = field(default_factory=dict)
    _step: str | None = None
    _started: float = 0.0

    def start(self, step: str) -> None:
        self.stop()
        self._step, self._started = step, time.perf_counter()

    def stop(self) -> None:
        if self._step is not None:
            took = round(time.perf_counter() - self._started, 2)
            self.steps[self._step] = {"seconds": took, "peak_rss_mib": peak_rss_mib()}
            self._step = None


def pull_stream(
    factory: sessionmaker[Session],
    connector: Any,
    source: str,
    stream: str,
    run_id: int | None = None,
    *,
    fresh: bool = False,
    seen: set[Any] | None = None,
    start: dt.datetime | None = None,
    progress: OnProgress | None = None,
) -> tuple[int, int]:
    """Pull one stream page by page; returns (records stored, records quarantined).

    fresh: ignore the saved cursor and read the stream from its beginning (reconcile);
    seen: collects the natural keys pulled, so rows the source no longer has can be found.
    """
    sink = SINKS[(source, stream)]
    name = f"{source}.{stream}"
    cursor = None
    if not fresh:
        with transaction(factory) as session:
            cursor = cursors.get_cursor(session, name)
    stored = rejected = 0
    pages = connector.pull(stream, cursor, start=start) if start else connector.pull(stream, cursor)
    with long_lived_frozen():
        for page in pages:
            if seen is not None:
                seen.update(sink.to_row(r)[sink.key[-1]] for r in page.records)
            with transaction(factory) as session:
                stored += store_page(session, sink, page.records)
                rejected += quarantine(session, page.rejected, run_id)
                if page.cursor is not None:
                    cursors.save_cursor(session, name, page.cursor)
            crash_point("after_pull_page")
            if progress is not None:
                progress(name, stored + rejected)
    log.info("pulled %s: %s stored, %s quarantined", name, stored, rejected)
    return stored, rejected


def store_page(session: Session, sink: Sink, records: Sequence[Any]) -> int:
    rows = [sink.to_row(r) for r in records]
    if not rows:
        return 0
    if not sink.patch:
        key = list(sink.key)
        return upsert_rows(
            session,
            sink.table,
            rows,
            key=key,
            update=sink.update,
            reset_on_change=dict(sink.reset_on_change),
        )
    # patch: update columns of rows that already exist (metrics and ratings onto tickets)
    cols = [c for c in rows[0] if c not in sink.key]
    stmt = (
        update(sink.table)
        .where(*(sink.table.c[k] == bindparam(f"k_{k}") for k in sink.key))
        .values({c: bindparam(f"v_{c}") for c in cols})
    )
    params = [
        {**{f"k_{k}": r[k] for k in sink.key}, **{f"v_{c}": r[c] for c in cols}} for r in rows
    ]
    session.connection().execute(stmt, params)
    return len(rows)


def quarantine(session: Session, rejected: Iterable[Any], run_id: int | None) -> int:
    n = 0
    for r in rejected:
        session.add(
            QuarantinedRecord(
                source=r.source,
                stream=r.stream,
                external_id=None if r.external_id is None else str(r.external_id)[:255],
                reason=str(r.reason)[:4000],
                payload=None if r.raw is None else str(r.raw)[:20000],
                run_id=run_id,
            )
        )
        n += 1
    return n


@dataclass
class Steps:
    """The scoring, escalation and push steps, injected so the pipeline stays a plain sequence."""

    score: Callable[[Session, dt.date], dict[str, int]]
    escalate: Callable[[Session, dt.date], tuple[dict[str, int], list[outbox.CreateRequest]]] | None
    push: Callable[[sessionmaker[Session]], dict[str, Any]] | None
    writeback_policy: str = "own"
    deadband: DeadBand | None = None  # small numeric moves are not written (sync/deadband.py)
    # replays history once; runs only after a complete pull, so no past day is scored on a
    # partial pull (today's snapshot is upserted again by the next run; past ones are not)
    backfill: Callable[[Session, dt.date], None] | None = None
    plan_scope: list[int] | None = None  # a targeted refresh plans only these accounts
    # the connectors' field write kinds by entity (sync.routes.field_targets): what is planned
    write_targets: WriteTargets = field(default_factory=dict)
    # tells the operator (the rules' notify webhook) that a run failed: (factory, run id, message)
    alert: Callable[[sessionmaker[Session], int, str], None] | None = None


class SourcesUnavailable(RuntimeError):
    """Every source of a run failed: nothing new was pulled, so nothing is scored or written."""


def run_sync(
    factory: sessionmaker[Session],
    connectors: dict[str, Any],
    steps: Steps,
    *,
    dry_run: bool = False,
    as_of: dt.date | None = None,
    kind: str = "sync",
    streams: Sequence[tuple[str, str]] = STREAM_ORDER,
    fresh: Sequence[tuple[str, str]] = (),
    errors: Sequence[str] = (),
    history_days: int = DEFAULT_HISTORY_DAYS,
    progress: OnProgress | None = None,
) -> RunReport:
    """Run the whole pipeline once and record it as a SyncRun.

    Every decision a later step acts on is committed with what acts on it: escalation rows
    and their outbox creations in one transaction, so a crash between steps loses nothing. A
    dry run pulls (kept like any pull: the next run would read the same pages) and then
    resolves, scores, escalates and plans in one transaction that it rolls back, so it leaves
    nothing a later run depends on. `progress(step, count)` is told of every pulled page and
    of each later step as it starts.
    """
    tell: OnProgress = progress or (lambda step, n: None)
    clock = StepClock()
    started = time.perf_counter()
    as_of = as_of or utcnow().date()
    run_id = runs.start_run(factory, kind, dry_run=dry_run)
    beat = runs.Heartbeat(factory, run_id)

    def step(name: str, count: int = 0) -> None:
        clock.start(name)
        beat.enter(name)
        tell(name, count)

    def on_page(name: str, n: int) -> None:
        beat.beat()
        tell(name, n)

    report = RunReport(run_id=run_id, dry_run=dry_run, errors=list(errors))
    calls_before = _calls(connectors)
    status = "failed"
    try:
        step("pulling")
        history_start = dt.datetime.combine(as_of, dt.time(), dt.UTC) - dt.timedelta(
            days=history_days
        )
        pulled_from = _pull_all(
            factory,
            connectors,
            streams,
            run_id,
            report,
            fresh=set(fresh),
            start=history_start,
            progress=on_page,
        )
        if not pulled_from:
            raise SourcesUnavailable(
                "no source could be read ("
                + ("; ".join(report.errors) or "none is configured")
                + "): nothing was scored or written back"
            )
        if dry_run:
            beat.enter("deciding (dry run, rolled back)")

            def quiet(name: str, count: int = 0) -> None:  # no heartbeat write: the dry
                clock.start(name)  # run's open transaction holds SQLite's write lock
                tell(name, count)

            with factory() as session:
                try:
                    creates = _decide(session, steps, report, as_of, fresh=bool(fresh), step=quiet)
                    quiet("planning write-back")
                    _plan(session, steps, report, dry_run=True)
                    for c in creates:  # what the real run would create, counted with the plan
                        report.planned[c.kind] = report.planned.get(c.kind, 0) + 1
                    crash_point("after_plan")
                finally:
                    session.rollback()
        else:
            _decide_committed(factory, steps, report, as_of, fresh=bool(fresh), step=step)
            step("planning write-back")
            with transaction(factory) as session:
                total = _plan(session, steps, report, dry_run=False)
            crash_point("after_plan")
            if steps.push is not None:
                step("pushing", total)
                report.pushed = steps.push(factory)
                crash_point("after_push")
        status = "partial" if report.errors else "succeeded"
    except Exception as exc:
        report.errors.append(f"{type(exc).__name__}: {exc}")
        if isinstance(exc, SourcesUnavailable) and steps.alert is not None and not dry_run:
            steps.alert(factory, run_id, f"pulsehub {kind} run {run_id} failed: {exc}")
        raise
    finally:
        clock.stop()
        report.steps = clock.steps
        report.seconds = time.perf_counter() - started
        after = _calls(connectors)
        report.api_calls = {k: after[k] - calls_before.get(k, 0) for k in after}
        report.quota = _quota(connectors)
        with transaction(factory) as session:
            row = session.get(SyncRun, run_id)
            if row is not None:
                row.status, row.finished_at, row.stats = status, utcnow(), report.stats()
                row.error = "; ".join(report.errors) or None
    return report


StepFn = Callable[[str], None]


def _decide(
    session: Session, steps: Steps, report: RunReport, as_of: dt.date, *, fresh: bool, step: StepFn
) -> list[outbox.CreateRequest]:
    """Resolve identities, score and escalate in `session`; returns the creations to queue."""
    step("resolving identities")
    report.identity = resolve_identities(session, full_relink=fresh)
    crash_point("after_identity")
    step("scoring")
    if steps.backfill is not None and not report.errors:
        steps.backfill(session, as_of)
    report.bands = steps.score(session, as_of)
    crash_point("after_score")
    if steps.escalate is None:
        return []
    step("escalating")
    report.escalations, creates = steps.escalate(session, as_of)
    crash_point("after_escalate")
    return creates


def _decide_committed(
    factory: sessionmaker[Session],
    steps: Steps,
    report: RunReport,
    as_of: dt.date,
    *,
    fresh: bool,
    step: StepFn,
) -> None:
    """`_decide` for a real run: each step commits on its own; escalation rows commit together
    with the outbox creations that carry out their actions, so none is lost to a crash."""
    step("resolving identities")
    with transaction(factory) as session:
        report.identity = resolve_identities(session, full_relink=fresh)
    crash_point("after_identity")
    step("scoring")
    with transaction(factory) as session:
        if steps.backfill is not None and not report.errors:
            steps.backfill(session, as_of)
        report.bands = steps.score(session, as_of)
    crash_point("after_score")
    if steps.escalate is None:
        return
    step("escalating")
    with transaction(factory) as session:
        report.escalations, creates = steps.escalate(session, as_of)
        outbox.enqueue_creates(session, creates)
    crash_point("after_escalate")


def _plan(session: Session, steps: Steps, report: RunReport, *, dry_run: bool) -> int:
    """Diff desired against written state into the outbox (a dry run only counts); returns
    how many writes were planned."""
    chunks = plan_chunks(
        session, steps.write_targets, steps.writeback_policy, steps.plan_scope, band=steps.deadband
    )
    summary = outbox.enqueue_chunks(
        session, chunks, sweep=steps.plan_scope is None, dry_run=dry_run
    )
    report.planned, report.plan_sample = summary.planned, summary.sample
    return summary.total


def _pull_all(
    factory: sessionmaker[Session],
    connectors: dict[str, Any],
    streams: Sequence[tuple[str, str]],
    run_id: int,
    report: RunReport,
    *,
    fresh: set[tuple[str, str]],
    start: dt.datetime,
    progress: OnProgress,
) -> set[str]:
    """Pull every stream; a source that fails stops its own remaining streams, not the others'.
    Returns the sources whose streams were all read.

    Streams in `fresh` are read from the beginning; rows of theirs the source no longer
    returns are marked deleted (hard deletes that never reached an incremental pull).
    """
    failed: set[str] = set()
    for source, stream in streams:
        if (conn := connectors.get(source)) is None or source in failed:
            continue
        is_fresh = (source, stream) in fresh
        seen: set[Any] | None = set() if is_fresh else None
        try:
            got, bad = pull_stream(
                factory,
                conn,
                source,
                stream,
                run_id,
                fresh=is_fresh,
                seen=seen,
                start=start if (source, stream) in DATED_STREAMS else None,
                progress=progress,
            )
        except ConnectorError as exc:
            # committed pages and their cursor stay; the next run resumes from there
            log.warning("pull of %s.%s stopped: %s", source, stream, exc)
            report.errors.append(f"{source}.{stream}: {type(exc).__name__}: {exc}")
            failed.add(source)
            continue
        report.pulled[f"{source}.{stream}"] = got
        if bad:
            report.quarantined[f"{source}.{stream}"] = bad
        if seen is not None:
            with transaction(factory) as session:
                gone = mark_missing_deleted(session, SINKS[(source, stream)], seen)
            if gone:
                report.deleted[f"{source}.{stream}"] = gone
    return {source for source, _ in streams if source in connectors and source not in failed}


def mark_missing_deleted(session: Session, sink: Sink, seen: set[Any]) -> int:
    """Flag rows a complete pull did not return as deleted (only tables that track deletes)."""
    table = sink.table
    if "is_deleted" not in table.c or sink.patch:
        return 0
    key = table.c[sink.key[-1]]
    scope = [table.c[k] == v for k, v in sink.scope]
    present = {
        row[0] for row in session.execute(select(key).where(*scope, table.c.is_deleted.is_(False)))
    }
    missing = sorted(present - seen)
    for start in range(0, len(missing), 500):
        session.execute(
            update(table)
            .where(*scope, key.in_(missing[start : start + 500]))
            .values(is_deleted=True)
        )
    return len(missing)


def _calls(connectors: dict[str, Any]) -> dict[str, int]:
    """API requests each connector has made so far (they count their own calls)."""
    return {name: int(getattr(c, "calls", 0) or 0) for name, c in connectors.items()}


def _quota(connectors: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, c in connectors.items():
        usage = getattr(c, "api_usage", None)
        if isinstance(usage, tuple) and len(usage) == 2:
            out[name] = {"used": usage[0], "total": usage[1]}
    return out
