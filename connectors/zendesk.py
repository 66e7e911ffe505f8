"""Zendesk connector: incremental exports and cursor lists, tags, org fields, tickets."""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from typing import Any

from zenpy import Zenpy

from connectors.base import Kind, Stream, StreamRead, Writer
from connectors.dedupe import RecentMarkers
from connectors.http import RetryPolicy
from connectors.prefetch import read_ahead
from connectors.records import Page, WriteResult, validate_rows
from connectors.write_fields import WriteFields
from connectors.zendesk_records import OrgUpdate, TicketCreate
from connectors.zendesk_streams import SPECS, STREAMS, ZdStream
from connectors.zendesk_transport import WindowLimiter, ZendeskTransport
from connectors.zendesk_write import ZendeskWriter
from connectors.zendesk_writer import ZendeskOutboxWriter, load_org_fields

logger = logging.getLogger(__name__)


def _epoch(value: dt.datetime | None) -> int:
    return int(value.timestamp()) if value else 0


class ZendeskConnector:
    """Pulls organizations, users, tickets, metrics, CSAT; writes tags, org fields, tickets."""

    kind: Kind = "helpdesk"
    title = "Zendesk"
    streams: Mapping[str, Stream] = STREAMS

    def __init__(
        self,
        zenpy: Zenpy,
        *,
        name: str = "zendesk",
        org_fields: WriteFields | None = None,
        allowed_tags: Sequence[str] | None = None,
        page_size: int = 1000,
        list_page_size: int = 100,
        policy: RetryPolicy = RetryPolicy(),
        export_limiter: WindowLimiter | None = None,
        full_refresh_every: dt.timedelta = dt.timedelta(hours=6),
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.name = name
        self.transport = ZendeskTransport(zenpy, policy)
        self.page_size = page_size
        self.list_page_size = list_page_size
        self.full_refresh_every = full_refresh_every
        self.clock = clock
        self.export_limiter = export_limiter or WindowLimiter(10, 60.0, sleep=policy.sleep)
        org_fields = org_fields or load_org_fields()
        self._writer = ZendeskWriter(
            self.transport, writable_org_fields=org_fields.api_names(), allowed_tags=allowed_tags
        )
        self.writer: Writer | None = ZendeskOutboxWriter(self._writer, org_fields)

    @property
    def calls(self) -> int:
        return self.transport.calls

    def api_usage(self) -> tuple[int, int] | None:
        """Zendesk reports per-minute rate limits only, no daily quota."""
        return None

    def prepare_pulls(self, reads: Sequence[StreamRead]) -> None:
        """Nothing to do: Zendesk has no batch read for its exports and lists."""

    def pull(
        self, stream: str, cursor: str | None, *, start: dt.datetime | None = None
    ) -> Iterator[Page[Any]]:
        """Pages of `stream` after `cursor` (or since `start`); each page carries its cursor."""
        spec = SPECS[stream]
        if spec.strategy == "export_cursor":
            yield from self._export_cursor(spec, cursor, start)
        elif spec.strategy == "export_time":
            yield from self._export_time(spec, cursor, start)
        else:
            yield from self._list_cursor(spec, cursor, start)

    def _page(self, spec: ZdStream, items: list[dict[str, Any]], seen: RecentMarkers) -> Page[Any]:
        """Validate a page, dropping items just delivered in this run (same id+version)."""
        fresh = []
        for item in items:
            if not isinstance(item, dict):
                fresh.append(item)  # not an object: validation rejects it into quarantine
                continue
            marker = _marker(item.get(spec.primary_key), item.get(spec.cursor_field))
            if marker in seen:
                continue
            seen.add(marker)
            fresh.append(item)
        if len(fresh) < len(items):
            logger.info("%s: dropped %s repeated items", spec.name, len(items) - len(fresh))
        records, rejected = validate_rows(
            spec.model, fresh, source=self.name, stream=spec.name, id_key=spec.primary_key
        )
        return Page(records=records, rejected=rejected)

    def _get(
        self, url: Any, params: dict[str, Any], limiter: WindowLimiter | None = None
    ) -> Callable[[], Any]:
        """The call for one page (run now, or ahead in the background by `read_ahead`)."""
        return lambda: self.transport.request("GET", url, params=params, limiter=limiter)

    def _bodies(
        self,
        spec: ZdStream,
        params: dict[str, Any],
        next_url: Callable[[Any], Any],
        limiter: WindowLimiter | None = None,
    ) -> Iterator[Any]:
        """Response bodies page by page, the next requested while the caller stores this one.

        `next_url(body)` is the following page's URL (which carries its own query), or None;
        it is passed on as the body has it, so a hostile value fails where it always did.
        """

        def follow(body: Any) -> Callable[[], Any] | None:
            url = next_url(body)
            return None if url is None else self._get(url, dict(sideload), limiter)

        sideload = {"include": spec.include} if spec.include else {}
        first = self._get(spec.path, params | sideload, limiter)
        return read_ahead(first, follow, name=f"zendesk-{spec.name}")

    def _export_cursor(
        self, spec: ZdStream, cursor: str | None, start: dt.datetime | None
    ) -> Iterator[Page[Any]]:
        params: dict[str, Any] = {"per_page": self.page_size}
        if cursor:
            params["cursor"] = cursor
        else:
            params["start_time"] = _epoch(start)

        seen = RecentMarkers()
        for body in self._bodies(spec, params, _export_next("after_url"), self.export_limiter):
            page = self._page(spec, body.get(spec.key) or [], seen)
            after = body.get("after_cursor") or cursor
            yield page.model_copy(update={"cursor": after})
            cursor = after

    def _export_time(
        self, spec: ZdStream, cursor: str | None, start: dt.datetime | None
    ) -> Iterator[Page[Any]]:
        params: dict[str, Any] = {
            "start_time": int(cursor) if cursor else _epoch(start),
            "per_page": self.page_size,
        }

        seen = RecentMarkers()
        for body in self._bodies(spec, params, _export_next("next_page"), self.export_limiter):
            page = self._page(spec, body.get(spec.key) or [], seen)
            end_time = body.get("end_time")
            next_cursor = str(end_time) if end_time is not None else cursor
            yield page.model_copy(update={"cursor": next_cursor})
            cursor = next_cursor

    def _list_cursor(
        self, spec: ZdStream, cursor: str | None, start: dt.datetime | None
    ) -> Iterator[Page[Any]]:
        """Cursor-paginated lists; the saved cursor is {since, after, max, done_at} as JSON."""
        state: dict[str, Any] = (
            json.loads(cursor) if cursor else {"since": _epoch(start), "after": None}
        )
        if spec.full_refresh and not state.get("after") and state.get("done_at"):
            age = self.clock() - state["done_at"]
            if age < self.full_refresh_every.total_seconds():
                logger.info("%s: listed %.0fs ago; next full pass later", spec.name, age)
                return
        newest: int = int(state.get("max", state["since"]) or 0)
        params: dict[str, Any] = {"page[size]": self.list_page_size}
        if spec.since_param and state["since"]:
            params[spec.since_param] = state["since"]
        if state.get("after"):
            params["page[after]"] = state["after"]

        def has_more(body: Any) -> bool:
            return bool((body.get("meta") or {}).get("has_more")) and bool(body.get(spec.key))

        def next_url(body: Any) -> Any:
            url = (body.get("links") or {}).get("next") if has_more(body) else None
            return url or None

        seen = RecentMarkers()
        for body in self._bodies(spec, params, next_url):
            page = self._page(spec, body.get(spec.key) or [], seen)
            for record in page.records:
                newest = max(newest, _epoch(getattr(record, spec.cursor_field, None)))
            if has_more(body):
                after_cursor = (body.get("meta") or {}).get("after_cursor")
                after = {"since": state["since"], "after": after_cursor, "max": newest}
            else:
                after = {"since": newest if spec.since_param else 0, "after": None}
                if spec.full_refresh:
                    after["done_at"] = int(self.clock())
            yield page.model_copy(update={"cursor": json.dumps(after)})

    def add_ticket_tags(
        self, ticket_id: int, tags: list[str], maybe_sent: bool = False
    ) -> WriteResult:
        """Add tags to a ticket, keeping the tags it already has."""
        return self._writer.tags(ticket_id, tags, add=True, maybe_sent=maybe_sent)

    def remove_ticket_tags(
        self, ticket_id: int, tags: list[str], maybe_sent: bool = False
    ) -> WriteResult:
        """Remove only these tags from a ticket."""
        return self._writer.tags(ticket_id, tags, add=False, maybe_sent=maybe_sent)

    def update_ticket_tags(
        self, ticket_ids: Sequence[int], add: Sequence[str], remove: Sequence[str]
    ) -> list[WriteResult]:
        """The same tag change on many tickets: one update_many call per 100 tickets."""
        return self._writer.bulk_tags(ticket_ids, add, remove)

    def update_ticket_tag_groups(
        self,
        groups: Sequence[tuple[Sequence[int], Sequence[str], Sequence[str]]],
        maybe_sent: Collection[int] = (),
    ) -> list[list[WriteResult]]:
        """Several (tickets, add, remove) changes at once: jobs queued together, polled together;
        tickets in `maybe_sent` are read back first."""
        return self._writer.bulk_tag_groups(groups, maybe_sent)

    def comment_on_ticket(
        self,
        ticket_id: int,
        body: str,
        *,
        public: bool = False,
        status: str | None = None,
        key: str | None = None,
        maybe_sent: bool = False,
    ) -> WriteResult:
        """Comment once per `key`: a retry (`maybe_sent`) first looks for the key's marker."""
        return self._writer.comment(
            ticket_id, body, public=public, status=status, key=key, maybe_sent=maybe_sent
        )

    def update_organizations(
        self, updates: Sequence[OrgUpdate], maybe_sent: Collection[int] = ()
    ) -> list[WriteResult]:
        """Set organization fields via update_many (100/call), polling each job to the end;
        organizations in `maybe_sent` are read back first and skipped if already set."""
        return self._writer.update_organizations(updates, maybe_sent)

    def create_ticket(self, ticket: TicketCreate, idempotency_key: str) -> WriteResult:
        """Open a ticket at most once: Idempotency-Key header, then external_id lookup."""
        return self._writer.create_ticket(ticket, idempotency_key)


def _export_next(link: str) -> Callable[[Any], Any]:
    """An incremental export's next page: its `link` field, unless the stream has ended."""

    def next_url(body: Any) -> Any:
        if body.get("end_of_stream", True) or not body.get(link):
            return None
        return body[link]

    return next_url


def _marker(*values: Any) -> tuple[Any, ...]:
    """A hashable (id, version) even when a hostile item sends a list or object there."""
    try:
        hash(values)
    except TypeError:
        return tuple(repr(v) for v in values)
    return values
