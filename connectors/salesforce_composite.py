"""First pages of several streams in one Salesforce Composite request.

`POST /services/data/vXX.X/composite` runs up to 25 subrequests, at most 5 of them queries,
and the whole series counts as one call against the org's daily API limit (REST guide,
"Send Multiple Requests Using Composite"). An hourly pull asks each stream one query (its
page after the saved cursor), so the three crm streams cost one request instead of three.

Each result is kept under its exact SOQL and queryAll flag; the stream's own query takes it
instead of asking again, so pages, cursors and follow-up batches (`nextRecordsUrl`) are the
same as without it. A subrequest that failed, a result nobody took within `max_age`, or a
composite request refused as a whole is simply not there: the stream asks on its own and
meets (and reports) the error itself.

A first pull reads more than one page of most streams: once the first pages are in, every
stream's second page is known, and `fetch_behind` asks them together in the background while
the first pages are stored (a stream whose second page is still on its way waits for it).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from connectors.errors import ConnectorError
from connectors.http import redact
from connectors.prefetch import Prefetch

logger = logging.getLogger(__name__)
MAX_QUERIES = 5  # query subrequests a composite request may hold


@dataclass(frozen=True)
class Query:
    """One query a stream is about to send, as the connector would send it."""

    soql: str
    include_deleted: bool
    headers: dict[str, str]

    @property
    def key(self) -> tuple[str, bool]:
        return self.soql, self.include_deleted


def subrequest(query: Query, version: str, ref: str) -> dict[str, Any]:
    resource = "queryAll" if query.include_deleted else "query"
    sub: dict[str, Any] = {
        "method": "GET",
        "url": f"/services/data/v{version}/{resource}/?{urlencode({'q': query.soql})}",
        "referenceId": ref,
    }
    if query.headers:
        sub["httpHeaders"] = dict(query.headers)
    return sub


class ReadAhead:
    """Query results fetched ahead, each taken at most once and only while fresh."""

    def __init__(self, max_age: float = 120.0) -> None:
        self.max_age = max_age
        self._results: dict[tuple[str, bool], tuple[float, dict[str, Any]]] = {}
        self._pending: dict[tuple[str, bool], Prefetch[None]] = {}
        self._round = 0  # which `fetch` results belong to: a late background answer of an
        # earlier round (a run that stopped mid-pull) is not kept for the next run

    def fetch(
        self, queries: Sequence[Query], version: str, send: Callable[[dict[str, Any]], Any]
    ) -> None:
        """Send `queries` (two or more) as composite requests of up to five queries each;
        `send(body)` makes one request and returns its decoded response, raising only the
        connector's classified errors. Such an error is logged and leaves those queries to be
        asked on their own (and to meet it again); anything else is a bug and propagates."""
        self._results.clear()
        self._pending.clear()
        self._round += 1
        if len(queries) >= 2:
            self._send(queries, version, send, self._round)

    def fetch_behind(
        self, queries: Sequence[Query], version: str, send: Callable[[dict[str, Any]], Any]
    ) -> None:
        """As `fetch`, in a background thread, for queries each stream will ask later (one is
        enough: it is asked while other pages are stored); `take` waits for its query."""
        if not queries:
            return
        round_ = self._round
        job = Prefetch(
            lambda: self._send(queries, version, send, round_), name="salesforce-composite"
        )
        for query in queries:
            self._pending[query.key] = job

    def _send(
        self,
        queries: Sequence[Query],
        version: str,
        send: Callable[[dict[str, Any]], Any],
        round_: int,
    ) -> None:
        for at in range(0, len(queries), MAX_QUERIES):
            chunk = queries[at : at + MAX_QUERIES]
            body = {
                "allOrNone": False,
                "compositeRequest": [subrequest(q, version, f"q{i}") for i, q in enumerate(chunk)],
            }
            try:
                response = send(body)
            except ConnectorError as exc:  # the streams will ask on their own and report it
                logger.warning("Salesforce composite read-ahead skipped: %s", redact(str(exc)))
                return
            if round_ == self._round:
                self._keep(chunk, response)

    def _keep(self, chunk: Sequence[Query], response: Any) -> None:
        results = response.get("compositeResponse") if isinstance(response, dict) else None
        if not isinstance(results, list):
            logger.info("composite read ahead: unexpected response shape, skipped")
            return
        now = time.monotonic()
        by_ref = {r.get("referenceId"): r for r in results if isinstance(r, dict)}
        for i, query in enumerate(chunk):
            result = by_ref.get(f"q{i}") or {}
            body = result.get("body")
            if result.get("httpStatusCode") == 200 and isinstance(body, dict) and "records" in body:
                self._results[query.key] = (now, body)

    def peek(self, query: Query) -> dict[str, Any] | None:
        """The result fetched ahead for `query`, left in place (None if there is none)."""
        found = self._results.get(query.key)
        return None if found is None else found[1]

    def take(self, soql: str, include_deleted: bool) -> dict[str, Any] | None:
        """The result fetched ahead for this query, if it is fresh (then it is gone); one
        still being fetched behind is waited for."""
        job = self._pending.pop((soql, include_deleted), None)
        if job is not None:
            job.result()  # a classified error was logged and left the query to its stream
        found = self._results.pop((soql, include_deleted), None)
        if found is None or time.monotonic() - found[0] > self.max_age:
            return None
        return found[1]
