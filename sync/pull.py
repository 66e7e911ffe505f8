"""The pull stage: every selected stream, page by page, mapped into its entity's table.

Each page is upserted with its cursor in one transaction, so a crash at any point loses
nothing and duplicates nothing: the next run resumes from the last committed cursor.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Literal

from sqlalchemy import String, cast, delete, select, update
from sqlalchemy.orm import Session, sessionmaker

from connectors.base import Connector, PlannedStream, StreamRead, pull_order
from connectors.errors import ConnectorError
from model.db import transaction
from model.tables import QuarantinedRecord, ReconcileSeen
from model.upsert import upsert_rows
from sync import cursors
from sync.crashpoints import crash_point
from sync.heap import long_lived_frozen
from sync.instances import sink_for
from sync.mapping import SINKS, Sink
from sync.report import RunReport
from sync.suppression import drop_erased

log = logging.getLogger(__name__)

OnProgress = Callable[[str, int], None]
# Which streams a run reads: every declared one; every one with the `reconcile` streams read
# whole (deletes found); or only the `refresh` streams (an account's near-real-time refresh).
Selector = Literal["all", "reconcile", "refresh"]
DEFAULT_HISTORY_DAYS = 180


class SourcesUnavailable(RuntimeError):
    """Every source of a run failed: nothing new was pulled, so nothing is scored or written."""


def select_streams(connectors: Iterable[Connector], selector: Selector) -> list[PlannedStream]:
    """The streams a run reads, in pull order (several sources of a kind: sync/instances.py)."""
    connectors = list(connectors)
    planned = pull_order(connectors)
    if selector == "refresh":
        return [p for p in planned if p.stream.refresh]
    return planned


def history_start(as_of: dt.date, history_days: int = DEFAULT_HISTORY_DAYS) -> dt.datetime:
    """Where a dated stream's first pull starts."""
    return dt.datetime.combine(as_of, dt.time(), dt.UTC) - dt.timedelta(days=history_days)


def pull(
    factory: sessionmaker[Session],
    connectors: Mapping[str, Connector],
    streams: Sequence[PlannedStream],
    report: RunReport,
    *,
    reconcile: bool,
    start: dt.datetime,
    progress: OnProgress | None = None,
) -> set[str]:
    """Pull `streams`; a source that fails stops its own remaining streams, not the others'.
    Returns the sources whose streams were all read; raises SourcesUnavailable when none was.

    With `reconcile`, streams declared `reconcile` are read from the beginning and rows of
    theirs the source no longer returns are marked deleted (hard deletes that never reached
    an incremental pull).
    """
    failed: set[str] = set()
    prepared: set[str] = set()
    for planned in streams:
        source, stream = planned.source, planned.stream
        if source in failed:
            continue
        if source not in prepared:
            prepared.add(source)
            reads = stream_reads(factory, streams, source, reconcile=reconcile, start=start)
            connectors[source].prepare_pulls(reads)
        fresh = reconcile and stream.reconcile
        name = f"{source}.{stream.name}"
        seen = SeenKeys(name) if fresh else None
        if seen is not None:
            with transaction(factory) as session:
                seen.clear(session)  # a crashed read's leftovers
        sink = SINKS[sink_for(stream.entity, source, connectors)]
        try:
            got, bad = pull_stream(
                factory,
                connectors[source],
                stream.name,
                report.run_id,
                fresh=fresh,
                seen=seen,
                start=start if stream.dated else None,
                progress=progress,
                sink=sink,
            )
        except ConnectorError as exc:
            # committed pages and their cursor stay; the next run resumes from there
            log.warning("pull of %s stopped: %s", name, exc)
            report.errors.append(f"{name}: {type(exc).__name__}: {exc}")
            failed.add(source)
            continue
        report.pulled[name] = got
        if bad:
            report.quarantined[name] = bad
        if seen is not None:
            with transaction(factory) as session:
                gone = mark_missing_deleted(session, sink, source, seen)
            if gone:
                report.deleted[name] = gone
    pulled_from = {p.source for p in streams} - failed
    if not pulled_from:
        raise SourcesUnavailable(
            "no source could be read ("
            + ("; ".join(report.errors) or "none is configured")
            + "): nothing was scored or written back"
        )
    return pulled_from


def stream_reads(
    factory: sessionmaker[Session],
    streams: Sequence[PlannedStream],
    source: str,
    *,
    reconcile: bool,
    start: dt.datetime,
) -> list[StreamRead]:
    """What `pull_stream` will hand `source`'s connector for each of its streams: the saved
    cursor (none for a stream read whole by the reconcile) and, for a dated stream, `start`."""
    mine = [p.stream for p in streams if p.source == source]
    with transaction(factory) as session:
        return [
            StreamRead(
                s.name,
                None
                if reconcile and s.reconcile
                else cursors.get_cursor(session, f"{source}.{s.name}"),
                start if s.dated else None,
            )
            for s in mine
        ]


def pull_stream(
    factory: sessionmaker[Session],
    connector: Connector,
    stream: str,
    run_id: int | None = None,
    *,
    fresh: bool = False,
    seen: SeenKeys | None = None,
    start: dt.datetime | None = None,
    progress: OnProgress | None = None,
    sink: Sink | None = None,
) -> tuple[int, int]:
    """Pull one declared stream page by page; returns (records stored, records quarantined).

    fresh: ignore the saved cursor and read the stream from its beginning (reconcile);
    seen: stages the natural keys pulled (in each page's transaction), so rows the source no
    longer has can be found;
    sink: where the records land (default: their entity's).
    """
    source = connector.name
    sink = sink or SINKS[connector.streams[stream].entity]
    name = f"{source}.{stream}"
    cursor = None
    if not fresh:
        with transaction(factory) as session:
            cursor = cursors.get_cursor(session, name)
    stored = rejected = 0
    pages = connector.pull(stream, cursor, start=start) if start else connector.pull(stream, cursor)
    with long_lived_frozen():
        for page in pages:
            rows = [sink.row(r, source) for r in page.records]
            with transaction(factory) as session:
                if seen is not None:
                    seen.record(session, (row[sink.key[-1]] for row in rows))
                stored += store_rows(session, sink, rows)
                rejected += quarantine(session, page.rejected, run_id)
                if page.cursor is not None:
                    cursors.save_cursor(session, name, page.cursor)
            crash_point("after_pull_page")
            if progress is not None:
                progress(name, stored + rejected)
    log.info("pulled %s: %s stored, %s quarantined", name, stored, rejected)
    return stored, rejected


def store_rows(session: Session, sink: Sink, rows: list[dict[str, Any]]) -> int:
    """Upsert one page's rows into the sink's table, less those of erased accounts."""
    rows, _ = drop_erased(session, rows, sink.suppress)
    if not rows:
        return 0
    return upsert_rows(
        session,
        sink.table,
        rows,
        key=list(sink.key),
        update=sink.update,
        reset_on_change=dict(sink.reset_on_change),
    )


def quarantine(session: Session, rejected: Iterable[Any], run_id: int | None) -> int:
    """Keep records that failed validation, with their reason, for the operator."""
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


class SeenKeys:
    """The natural keys one complete read of a stream returned, staged in `reconcile_seen` in
    each page's own transaction (so a crash keeps page and keys together), never in memory."""

    def __init__(self, stream: str) -> None:
        self.stream = stream

    def clear(self, session: Session) -> None:
        session.execute(delete(ReconcileSeen).where(ReconcileSeen.stream == self.stream))

    def record(self, session: Session, keys: Iterable[Any]) -> None:
        rows = [{"stream": self.stream, "key": str(k)} for k in {*keys} if k is not None]
        upsert_rows(session, ReconcileSeen.__table__, rows, key=["stream", "key"], update=[])  # type: ignore[arg-type]


def mark_missing_deleted(session: Session, sink: Sink, source: str, seen: SeenKeys) -> int:
    """Flag rows a complete pull did not return as deleted (only tables that track deletes),
    in one statement against the staged keys; then empty the stage."""
    table = sink.table
    if "is_deleted" not in table.c:
        seen.clear(session)
        return 0
    key = table.c[sink.key[-1]]
    scope = [] if sink.source_column is None else [table.c[sink.source_column] == source]
    returned = (
        select(ReconcileSeen.key)
        .where(ReconcileSeen.stream == seen.stream, ReconcileSeen.key == cast(key, String))
        .exists()
    )
    result = session.execute(
        update(table)
        .where(*scope, table.c.is_deleted.is_(False), ~returned)
        .values(is_deleted=True)
        .execution_options(synchronize_session=False)
    )
    seen.clear(session)
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
