"""Warehouse usage connector: workspaces and daily usage read from any SQLAlchemy URL.

A "usage" source like the usage API's, emitting the same records (UsageWorkspace,
UsageDay), so identity resolution and scoring need nothing new. Each stream reads a table
(through a column mapping) or a query; daily usage may instead be raw events rolled up per
workspace and UTC day. Pulls are keyset pages ordered by (cursor, key), incremental by a date
or updated-at cursor: each run re-reads from `lookback_days` before the newest value seen, so
late rows land. Malformed rows are quarantined and the run goes on. Options: warehouse.yaml.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, CursorResult, Engine, Row, Select, create_engine
from sqlalchemy.exc import NoSuchModuleError, SQLAlchemyError

from connectors.base import Connector, Kind, SourceConfig, Stream, StreamRead, Writer
from connectors.errors import ConfigError, Fatal
from connectors.http import RetryPolicy, call
from connectors.records import Page, Record, Rejected, validate_rows
from connectors.surveys import SurveyAnswer, minimize
from connectors.usage import rollup_events
from connectors.usage_records import UsageDay, UsageEvent, UsageWorkspace
from connectors.warehouse.options import StreamSource, WarehouseConfig, parse_options
from connectors.warehouse.sql import (
    classify_db_error,
    day_of,
    decode,
    encode,
    page_query,
    record_row,
    rows_of,
)

logger = logging.getLogger(__name__)
KEYS: Mapping[str, tuple[str, ...]] = {
    "workspaces": ("id",),
    "daily_usage": ("workspace_id", "day"),
    "surveys": ("id",),
}


def build(config: SourceConfig) -> Connector:
    """The `warehouse` entry point: options validated, the dialect loaded, nothing connected."""
    options = parse_options(config.options)
    try:
        engine = create_engine(options.url, pool_pre_ping=True)
    except NoSuchModuleError:
        raise ConfigError(
            f"key 'url': no SQLAlchemy dialect for {options.url.drivername!r} is installed — "
            "install its package (README 'Warehouse usage' lists them)"
        ) from None
    return WarehouseConnector(config.name, options, engine)


class WarehouseConnector:
    """Reads the configured tables or queries through one SQLAlchemy engine."""

    kind: Kind = "usage"
    title = "Warehouse"
    writer: Writer | None = None

    def __init__(
        self,
        name: str,
        config: WarehouseConfig,
        engine: Engine,
        policy: RetryPolicy = RetryPolicy(),
    ) -> None:
        self.name = name
        self.config = config
        self.engine = engine
        self.policy = policy
        self.calls = 0  # queries run
        workspaces_cursor = config.workspaces.cursor
        self.streams: Mapping[str, Stream] = {
            "workspaces": Stream(
                "workspaces",
                "workspace",
                "id",
                cursor=workspaces_cursor,
                mode="incremental" if workspaces_cursor else "full",
                reconcile=True,
            ),
            "daily_usage": Stream(
                "daily_usage", "usage_day", "workspace_id", cursor=config.daily.cursor, dated=True
            ),
        }
        if config.surveys is not None:  # survey answers, when a table or query is configured
            self.streams = {
                **self.streams,
                "surveys": Stream("surveys", "survey_response", "id", cursor=config.surveys.cursor),
            }

    def api_usage(self) -> tuple[int, int] | None:
        return None  # a database has no API quota

    def prepare_pulls(self, reads: Sequence[StreamRead]) -> None:
        """Nothing to do: a database table reads one stream at a time."""

    def pull(
        self, stream: str, state: str | None, *, start: dt.datetime | None = None
    ) -> Iterator[Page[Any]]:
        """Pages after `state` (JSON: the cursor's lower bound and the keyset position)."""
        if stream == "workspaces":
            return self._pull_rows(stream, self.config.workspaces, UsageWorkspace, state, None)
        if stream == "surveys" and self.config.surveys is not None:
            return self._pull_rows(stream, self.config.surveys, SurveyAnswer, state, None)
        if stream != "daily_usage":
            raise Fatal(f"{self.name} has no stream {stream!r}", code="UNKNOWN_STREAM")
        first = self._first_day(start)
        if self.config.rolls_up_events:
            return self._pull_events(state, first)
        return self._pull_rows(stream, self.config.daily, UsageDay, state, first)

    def _first_day(self, start: dt.datetime | None) -> dt.date:
        """Where a first pull of daily usage starts: sync's start, else `history_days` back."""
        if start is not None:
            return start.date()
        return dt.datetime.now(dt.UTC).date() - dt.timedelta(days=self.config.history_days)

    def _pull_rows(
        self,
        stream: str,
        source: StreamSource,
        model: type[Record],
        state: str | None,
        first_day: dt.date | None,
    ) -> Iterator[Page[Any]]:
        saved: dict[str, Any] = json.loads(state) if state else {}
        key = KEYS[stream]
        order = [f for f in (source.cursor, *key) if f is not None]
        order = list(dict.fromkeys(order))
        lower = decode(saved.get("from"))
        start_day = decode(saved.get("start_day")) if state else first_day
        bounds = [(source.cursor, lower)] if source.cursor and lower is not None else []
        if start_day is not None:
            bounds.append(("day", start_day))
        rows = rows_of(source, sorted({*order, *(f for f, _ in bounds)}))
        after = [decode(v) for v in saved["after"]] if saved.get("after") else None
        newest = decode(saved.get("newest"))
        size = self.config.page_size
        while True:
            got = self._fetch(page_query(rows, order, after=after, bounds=bounds, limit=size))
            raw = [record_row(r) for r in got]
            if stream == "surveys":  # verbatims minimized before anything keeps them
                raw = [minimize(r, self.config.verbatims, ("comment",)) for r in raw]
            records, rejected = validate_rows(
                model, raw, source=self.name, stream=stream, id_key=key[0]
            )
            if got:
                last = {str(k).lower(): v for k, v in got[-1]._mapping.items()}
                after = [last[f] for f in order]  # as read: binds back to the same type
                newest = last[source.cursor] if source.cursor else None
            more = len(got) == size
            if more:
                position = {"from": lower, "start_day": start_day, "after": after}
                saved_next: dict[str, Any] | None = {**position, "newest": newest}
            else:
                saved_next = self._restart(source, lower, start_day, newest)
            yield Page(records=records, rejected=rejected, cursor=_dump(saved_next))
            if not more:
                return

    def _restart(
        self, source: StreamSource, lower: Any, start_day: Any, newest: Any
    ) -> dict[str, Any] | None:
        """After a complete listing: from `lookback_days` before the newest cursor value's
        day; a stream without a cursor is read whole next time (None)."""
        if source.cursor is None:
            return None
        day = day_of(newest) if newest is not None else None
        if day is None:
            if newest is not None:
                logger.warning("%s: cursor value %r is not a date: not advanced", self.name, newest)
            return {"from": lower, "start_day": start_day}
        return {"from": day - dt.timedelta(days=self.config.lookback_days)}

    def _pull_events(self, state: str | None, first_day: dt.date) -> Iterator[Page[Any]]:
        """Raw events from the first day not yet complete, in time order, rolled up a UTC day
        at a time (memory: one day's events); each day's rows replace any earlier roll-up."""
        saved: dict[str, Any] = json.loads(state) if state else {}
        since = decode(saved["from"]) if saved.get("from") else first_day
        midnight = dt.datetime.combine(since, dt.time(), dt.UTC)
        rows = rows_of(self.config.daily, ["time"])
        stmt = page_query(rows, ["time"], after=None, bounds=[("time", midnight)])
        day: dt.date | None = None
        events: list[UsageEvent] = []
        rejected: list[Rejected] = []
        for batch in self._stream(stmt):
            records, bad = validate_rows(
                UsageEvent,
                [record_row(r) for r in batch],
                source=self.name,
                stream="daily_usage",
                id_key="insert_id",
            )
            rejected += bad
            for event in records:
                utc = event.time.astimezone(dt.UTC) if event.time.tzinfo else event.time
                if day is not None and utc.date() != day:
                    yield self._day_page(day, events, rejected)
                    events, rejected = [], []
                day = utc.date()
                events.append(event.model_copy(update={"time": utc}))
        if day is None:
            yield Page(rejected=rejected, cursor=_dump({"from": since}))
        else:
            yield self._day_page(day, events, rejected)

    def _day_page(
        self, day: dt.date, events: list[UsageEvent], rejected: list[Rejected]
    ) -> Page[UsageDay]:
        restart = day - dt.timedelta(days=self.config.lookback_days)
        return Page(
            records=rollup_events(events), rejected=rejected, cursor=_dump({"from": restart})
        )

    def _fetch(self, stmt: Select[Any]) -> Sequence[Row[Any]]:
        """One query, whole, under the retry policy (a lost connection is retried)."""

        def run() -> Sequence[Row[Any]]:
            self.calls += 1
            try:
                with self.engine.connect() as conn:
                    return conn.execute(stmt).all()
            except SQLAlchemyError as exc:
                raise classify_db_error(exc) from exc

        return call(run, self.policy)

    def _stream(self, stmt: Select[Any]) -> Iterator[Sequence[Row[Any]]]:
        """One query read in batches of `page_size` (server-side where the dialect has it);
        opening it is retried, a failure mid-stream is raised."""
        size = self.config.page_size

        def open_result() -> tuple[Connection, CursorResult[Any]]:
            self.calls += 1
            conn: Connection | None = None
            try:
                conn = self.engine.connect()
                streamed = conn.execution_options(stream_results=True, yield_per=size)
                return conn, streamed.execute(stmt)
            except SQLAlchemyError as exc:
                if conn is not None:
                    conn.close()
                raise classify_db_error(exc) from exc

        conn, result = call(open_result, self.policy)
        try:
            yield from result.partitions(size)
        except SQLAlchemyError as exc:
            raise classify_db_error(exc) from exc
        finally:
            conn.close()


def _dump(state: dict[str, Any] | None) -> str | None:
    if state is None:
        return None
    return json.dumps(
        {k: [encode(x) for x in v] if isinstance(v, list) else encode(v) for k, v in state.items()}
    )
