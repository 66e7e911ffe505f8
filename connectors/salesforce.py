"""Salesforce connector: keyset-incremental pulls on (SystemModstamp, Id), batched writes."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from typing import Any

import requests
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceError

from connectors.base import Kind, Stream, StreamRead, Writer
from connectors.errors import BudgetExhausted, Fatal, RateLimited
from connectors.http import RetryPolicy, call, classify, parse_retry_after
from connectors.prefetch import Prefetch
from connectors.records import Page, WriteResult, validate_rows
from connectors.salesforce_bulk import bulk_rows
from connectors.salesforce_composite import Query, ReadAhead
from connectors.salesforce_describe import DEFAULT_TTL, FieldStore
from connectors.salesforce_fields import SalesforceFieldMap
from connectors.salesforce_records import AccountUpdate, TaskCreate, flatten
from connectors.salesforce_streams import (
    SEEN_MAX,
    SPECS,
    STREAMS,
    Keyset,
    SfStream,
    after_cursor,
    keyset_where,
    modstamp,
)
from connectors.salesforce_write import SalesforceWriter
from connectors.salesforce_writer import SalesforceOutboxWriter

logger = logging.getLogger(__name__)
API_VERSION = "59.0"  # the REST version these queries and result shapes were written against


class SalesforceConnector:
    """Pulls users, accounts, opportunities, contacts; writes account fields and tasks."""

    kind: Kind = "crm"
    title = "Salesforce"
    streams: Mapping[str, Stream] = STREAMS

    def __init__(
        self,
        sf: Salesforce,
        fields: SalesforceFieldMap = SalesforceFieldMap(),
        *,
        name: str = "salesforce",
        budget_reserve: int = 1000,
        bulk_threshold: int | None = 50_000,
        page_size: int = 2000,
        policy: RetryPolicy = RetryPolicy(),
        refresh_session: Callable[[], None] | None = None,
        bulk_poll_wait: float = 5.0,
        bulk_overlap: dt.timedelta = dt.timedelta(hours=1),
        describe_ttl: dt.timedelta = DEFAULT_TTL,
    ) -> None:
        self.name = name
        self.sf = sf
        self.fields = fields
        self.budget_reserve = budget_reserve
        self.bulk_threshold = bulk_threshold
        self.page_size = page_size
        self.policy = policy
        self.refresh_session = refresh_session
        self.bulk_poll_wait = bulk_poll_wait
        self.bulk_overlap = bulk_overlap
        self.calls = 0
        self._ahead = ReadAhead()
        self._writer = SalesforceWriter(self, describe_ttl)
        self.writer: Writer | None = SalesforceOutboxWriter(self._writer, fields)
        self._retry_after: str | None = None
        session = getattr(sf, "session", None)
        if isinstance(session, requests.Session):  # simple-salesforce drops response headers
            session.hooks["response"].append(self._remember_retry_after)
        version = getattr(sf, "sf_version", API_VERSION)
        if version != API_VERSION:
            logger.warning("Salesforce client uses API v%s; pulsehub is pinned to v%s",
                           version, API_VERSION)  # fmt: skip

    def api_usage(self) -> tuple[int, int] | None:
        """(used, total) of the org's daily API requests, from the last Sforce-Limit-Info."""
        usage = self.sf.api_usage.get("api-usage")
        return (usage.used, usage.total) if usage else None

    def check_budget(self) -> None:
        """Raise BudgetExhausted when the remaining daily budget is at or below the reserve."""
        usage = self.api_usage()
        if usage and usage[1] - usage[0] <= self.budget_reserve:
            raise BudgetExhausted(
                f"Salesforce API budget {usage[0]}/{usage[1]} leaves no more than the "
                f"reserve of {self.budget_reserve}; stopping to resume later",
                used=usage[0],
                total=usage[1],
            )

    def request(self, fn: Callable[[], Any], *, idempotent: bool = True) -> Any:
        """One API call under the budget check, the retry policy and a timeout."""
        self.check_budget()
        self.calls += 1
        return call(
            lambda: self._with_retry_after(fn),
            self.policy,
            idempotent=idempotent,
            refresh=self.refresh_session,
        )

    def _remember_retry_after(self, response: requests.Response, *_: Any, **__: Any) -> None:
        self._retry_after = response.headers.get("Retry-After")

    def _with_retry_after(self, fn: Callable[[], Any]) -> Any:
        """Run `fn`; a rate limit raised by simple-salesforce gets the Retry-After it was sent."""
        try:
            return fn()
        except SalesforceError as exc:
            error = classify(exc)
            wait = parse_retry_after(self._retry_after)
            if isinstance(error, RateLimited) and error.retry_after is None and wait is not None:
                raise RateLimited(
                    error.message, retry_after=wait, code=error.code, status=error.status
                ) from exc
            raise

    def prepare_pulls(self, reads: Sequence[StreamRead]) -> None:
        """Ask every stream's first query in one Composite request (one API call for up to
        five streams); each stream's pull then takes its result instead of asking again.
        The second pages those results call for are asked together in the background."""
        firsts: list[tuple[SfStream, Keyset | None, Query, bool]] = []
        for read in reads:
            spec = SPECS.get(read.stream)
            try:
                position = _position(read.state, read.start)
            except (KeyError, TypeError, ValueError):
                continue  # the stream's own pull reports the bad state
            if spec is not None:
                first = read.state is None
                firsts.append(
                    (spec, position, self._first_query(spec, position, first=first), first)
                )
        version = getattr(self.sf, "sf_version", API_VERSION)
        timeout = self.policy.timeout

        def send(body: dict[str, Any]) -> Any:
            return self.request(
                lambda: self.sf.restful("composite", method="POST", json=body, timeout=timeout)
            )

        self._ahead.fetch([query for _, _, query, _ in firsts], version, send)
        seconds = [self._second_query(*first) for first in firsts]
        self._ahead.fetch_behind([q for q in seconds if q is not None], version, send)

    def _second_query(
        self, spec: SfStream, position: Keyset | None, query: Query, first: bool
    ) -> Query | None:
        """The query `pull` sends after the page `query` fetched ahead, if it sends one."""
        result = self._ahead.peek(query)
        if result is None:
            return None
        records = list(result.get("records") or [])
        if first and self.bulk_threshold is not None:  # as `pull` reads a first page
            rows = records[: self.page_size]
            total = int(result.get("totalSize", len(rows)))
            more = len(rows) < total <= self.bulk_threshold
        else:
            rows = after_cursor(records, position, spec)
            more = len(records) == self.page_size
        if not (more and rows):
            return None
        after = _last_position(spec, rows, position)
        return Query(self._keyset_soql(spec, after), spec.soft_delete, {})

    def _first_query(self, spec: SfStream, position: Keyset | None, *, first: bool) -> Query:
        """The query a pull of `spec` sends first: a first pull's unlimited query (its
        totalSize decides on Bulk), else the keyset page after the cursor."""
        if first and self.bulk_threshold is not None:
            batch = {"Sforce-Query-Options": f"batchSize={max(200, min(2000, self.page_size))}"}
            return Query(self._soql(spec, position), spec.soft_delete, batch)
        return Query(self._soql(spec, position) + f" LIMIT {self.page_size}", spec.soft_delete, {})

    def pull(
        self, stream: str, cursor: str | None, *, start: dt.datetime | None = None
    ) -> Iterator[Page[Any]]:
        """Pages of `stream` changed after `cursor` (or since `start`, or everything).

        Each page is its own keyset query (`... ORDER BY SystemModstamp, Id LIMIT n`), so a
        row edited mid-pull moves behind the cursor and arrives again, and any page's cursor
        resumes exactly. A first pull (no cursor) asks its first page without LIMIT: the
        response's `totalSize` tells how many rows there are, so Bulk API 2.0 takes over only
        above `bulk_threshold` and the pull stops on its last row without an empty query.
        """
        spec = SPECS[stream]
        position = _position(cursor, start)
        remaining: int | None = None  # rows still to come, known from a first page's totalSize
        ahead: Prefetch[list[dict[str, Any]]] | None = None  # the next page, asked early
        if cursor is None and self.bulk_threshold is not None:
            rows, total = self._first_page(spec, position)
            remaining = total - len(rows)
            page = None
            if rows:
                page, position = self._page(spec, rows, position)
            if remaining > 0 and total <= self.bulk_threshold:
                ahead = self._ask_ahead(spec, position)
            if page is not None:
                yield page
            if remaining <= 0:
                return
            logger.info(
                "%s: %s rows to pull (bulk above %s)", spec.name, total, self.bulk_threshold
            )
            if total > self.bulk_threshold:
                yield from self._pull_bulk(spec, position)
                return
        while True:
            if ahead is not None:
                rows = ahead.result()
            else:
                rows = self._query(self._keyset_soql(spec, position), spec.soft_delete)
            fresh = after_cursor(rows, position, spec)
            if not fresh and len(rows) == self.page_size:
                raise Fatal(
                    f"{spec.name}: a full page made no progress past {position}; the server "
                    "compares SystemModstamp more precisely than it returns it",
                    code="NO_PROGRESS",
                )
            if remaining is not None:
                remaining -= len(fresh)
            # stopping early is safe: a row not yet delivered sorts after the saved cursor
            last = len(rows) < self.page_size or (remaining is not None and remaining <= 0)
            page = None
            if fresh:
                page, position = self._page(spec, fresh, position)
            # the next page is asked while the caller stores this one (one request in flight)
            ahead = None if last else self._ask_ahead(spec, position)
            if page is not None:
                yield page
            if last:
                return

    def _keyset_soql(self, spec: SfStream, position: Keyset | None) -> str:
        return self._first_query(spec, position, first=False).soql

    def _ask_ahead(self, spec: SfStream, position: Keyset | None) -> Prefetch[list[dict[str, Any]]]:
        """The keyset page after `position`, requested in the background now."""
        soql = self._keyset_soql(spec, position)
        return Prefetch(lambda: self._query(soql, spec.soft_delete), name=f"salesforce-{spec.name}")

    def _first_page(
        self, spec: SfStream, position: Keyset | None
    ) -> tuple[list[dict[str, Any]], int]:
        """The first page of an unlimited keyset query and its totalSize, in one request.

        Only the first batch is read: later pages are keyset queries of their own, and the
        query locator left open expires on the server (Salesforce keeps 10 per user).
        """
        query = self._first_query(spec, position, first=True)
        timeout = self.policy.timeout
        result = self._ahead.take(*query.key) or self.request(
            lambda: self.sf.query(
                query.soql, include_deleted=spec.soft_delete, headers=query.headers, timeout=timeout
            )
        )
        rows: list[dict[str, Any]] = list(result["records"])[: self.page_size]
        return rows, int(result.get("totalSize", len(rows)))

    def _soql(self, spec: SfStream, position: Keyset | None) -> str:
        columns = ", ".join(spec.select(self.fields))
        order = f" ORDER BY {spec.cursor_field} ASC, {spec.primary_key} ASC"
        return f"SELECT {columns} FROM {spec.sobject}{keyset_where(spec, position)}{order}"

    def query(self, soql: str, include_deleted: bool = False) -> list[dict[str, Any]]:
        """All rows of a SOQL query (following nextRecordsUrl), each call under the policy."""
        return self._query(soql, include_deleted)

    def _query(self, soql: str, include_deleted: bool) -> list[dict[str, Any]]:
        timeout = self.policy.timeout
        result = self._ahead.take(soql, include_deleted) or self.request(
            lambda: self.sf.query(soql, include_deleted=include_deleted, timeout=timeout)
        )
        rows: list[dict[str, Any]] = list(result["records"])
        while not result.get("done", True) and result.get("nextRecordsUrl"):
            url: str = result["nextRecordsUrl"]

            def more(url: str = url) -> Any:
                return self.sf.query_more(url, identifier_is_url=True, timeout=timeout)

            result = self.request(more)
            rows.extend(result["records"])
        return rows

    def _page(
        self, spec: SfStream, rows: list[dict[str, Any]], position: Keyset | None
    ) -> tuple[Page[Any], Keyset | None]:
        flat = [flatten(r) for r in rows]
        logical = [spec.to_logical(r, self.fields) for r in flat]
        records, rejected = validate_rows(
            spec.model, logical, source=self.name, stream=spec.name, id_key="id"
        )
        position = _last_position(spec, flat, position)
        cursor = position.encode() if position else None
        return Page(records=records, rejected=rejected, cursor=cursor), position

    def _pull_bulk(self, spec: SfStream, position: Keyset | None) -> Iterator[Page[Any]]:
        """Bulk 2.0 pages. Its results are unordered (no ORDER BY in Bulk 2.0) and a job is
        no snapshot, so intermediate pages carry no cursor and the last one steps back
        `bulk_overlap` from the newest row; the rows re-read next time are idempotent upserts.
        """
        columns = ", ".join(spec.select(self.fields))
        soql = f"SELECT {columns} FROM {spec.sobject}{keyset_where(spec, position)}"
        newest: dt.datetime | None = None
        pending: Page[Any] | None = None
        for rows in bulk_rows(self, spec.sobject, soql, spec.soft_delete, self.page_size):
            if pending is not None:
                yield pending
            pending, _ = self._page(spec, rows, None)
            stamps = [modstamp(r, spec) for r in rows]
            newest = max([s for s in stamps if s] + ([newest] if newest else []), default=None)
            pending = pending.model_copy(update={"cursor": None})
        if pending is not None:
            resume = Keyset(newest - self.bulk_overlap) if newest else position
            yield pending.model_copy(update={"cursor": resume.encode() if resume else None})

    def deleted_ids(self, stream: str, start: dt.datetime, end: dt.datetime) -> list[str]:
        """Ids deleted in [start, end] via getDeleted: one call, at most 15 days back."""
        if start.tzinfo is None or end.tzinfo is None:
            raise ValueError("getDeleted needs aware datetimes (naive ones are malformed)")
        path = f"sobjects/{SPECS[stream].sobject}/deleted/"
        params = {
            "start": start.isoformat(timespec="seconds"),
            "end": end.isoformat(timespec="seconds"),
        }
        timeout = self.policy.timeout
        result = self.request(lambda: self.sf.restful(path, params=params, timeout=timeout))
        return [d["id"] for d in (result or {}).get("deletedRecords", [])]

    def use_field_store(self, store: FieldStore | None) -> None:
        """Reuse the Account describe kept in `store` while it is fresher than `describe_ttl`."""
        self._writer.account_fields.use_store(store)

    def update_accounts(
        self, updates: Sequence[AccountUpdate], maybe_sent: Collection[str] = ()
    ) -> list[WriteResult]:
        """Set account fields via sObject Collections (200/call); results in input order.
        Accounts in `maybe_sent` are read back first and skipped if they hold the values."""
        return self._writer.update_accounts(updates, maybe_sent)

    def create_tasks(self, tasks: Sequence[TaskCreate]) -> list[WriteResult]:
        """Create (idempotently upsert by key) owner Tasks; results in input order."""
        return self._writer.create_tasks(tasks)


def _last_position(
    spec: SfStream, rows: Sequence[dict[str, Any]], position: Keyset | None
) -> Keyset | None:
    """Where a page of rows ends: its last row with a readable cursor, with the ids delivered
    at that row's rendered time (this page's and, at the same time, the position's)."""
    last: Keyset | None = None
    seen: set[str] = set()
    for row in map(flatten, reversed(rows)):  # flattened lazily: the last rows usually do
        try:
            ts, rid = dt.datetime.fromisoformat(str(row[spec.cursor_field])), str(row["Id"])
        except (KeyError, TypeError, ValueError):
            continue
        if last is None:
            last = Keyset(ts, rid)
        elif ts != last.ts:
            break
        seen.add(rid)
    if last is None:
        return position
    if position is not None and position.ts == last.ts and position.id:
        if not position.seen:  # its ids at this time unknown (an older cursor, or past the cap)
            return last  # a partial set would take one of them for a row still to come
        seen |= position.seen
    return Keyset(last.ts, last.id, frozenset(seen) if len(seen) <= SEEN_MAX else frozenset())


def _position(cursor: str | None, start: dt.datetime | None) -> Keyset | None:
    """Where a pull resumes: the saved cursor, else `start`, else the beginning."""
    return Keyset.decode(cursor) if cursor else (Keyset(start) if start else None)
