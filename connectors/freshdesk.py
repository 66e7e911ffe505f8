"""Freshdesk connector: a second helpdesk, in Zendesk's place, through the same interface.

Why Freshdesk rather than Intercom: pulsehub's helpdesk kind models tickets filed by
customers' people against their company, rated after they are solved, tagged by agents and
carrying private notes — Freshdesk's own model (tickets, companies, satisfaction ratings,
tags, notes), which is Zendesk's. Intercom is conversation-first: companies hang off
contacts, a "ticket" is a conversation state, CSAT is a conversation rating; fitting it
would mean a second model, not a second connector.

Streams (declared as data below): `companies` -> organization, listed whole every run (the
companies API has no change filter; a few dozen pages of 100 for a few thousand customers)
and so reconciled for deletes; `tickets` -> ticket, from `updated_since` oldest-change first
with `include=stats` (reply/resolution times) and CSAT joined from the satisfaction ratings,
then the deleted ones (`filter=deleted`: the list leaves them out otherwise), which arrive
with status "deleted" so they stop counting as open.

The tickets list stops at page 300 (a 400 naming `page`): a pull that reaches it restarts
from page 1 with `updated_since` = the last ticket's `updated_at` (tickets of that second
come again and are dropped as repeats). More than 30,000 tickets in one second cannot be
listed this way and fail the stream with that reason.

A rating does not change its ticket's `updated_at`, so ratings are read first (from the
saved `ratings_since`); tickets in the listing get theirs, and rated tickets the listing did
not carry are read one by one (`GET tickets/{id}?include=stats`) on the pull's last page.
The saved cursor is `{"since", "ratings_since"}` (ISO timestamps, as JSON).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import httpx

from connectors.base import Kind, Stream, StreamRead, Writer
from connectors.dedupe import RecentMarkers
from connectors.errors import Fatal
from connectors.freshdesk_fields import FreshdeskFieldMap, load_field_map
from connectors.freshdesk_records import (
    FdCompany,
    FdRating,
    FdTicket,
    company_record,
    ticket_record,
)
from connectors.freshdesk_transport import FreshdeskTransport
from connectors.freshdesk_write import FreshdeskOutboxWriter, FreshdeskWrites
from connectors.http import RetryPolicy
from connectors.records import Page, Rejected, validate_rows

logger = logging.getLogger(__name__)
PAGE_LIMIT = 300  # the tickets list serves no page past the 300th
PER_PAGE = 100  # the API's largest page
BEGINNING = "2000-01-01T00:00:00Z"  # "since the beginning": the list needs updated_since

STREAMS: dict[str, Stream] = {
    s.name: s
    for s in (
        Stream("companies", "organization", "id", None, mode="full", reconcile=True),
        Stream("tickets", "ticket", "id", "updated_at", refresh=True),
    )
}


def iso(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def next_link(response: httpx.Response) -> bool:
    """Whether the list has another page (`Link: <...>; rel="next"`)."""
    return "next" in response.links


class FreshdeskConnector:
    """Pulls companies and tickets (with stats and CSAT); writes company fields, ticket tags,
    escalation tickets and private notes."""

    kind: Kind = "helpdesk"
    title = "Freshdesk"
    streams: Mapping[str, Stream] = STREAMS

    def __init__(
        self,
        client: httpx.Client,
        *,
        name: str = "freshdesk",
        field_map: FreshdeskFieldMap | None = None,
        allowed_tags: Sequence[str] | None = None,
        requester_email: str | None = None,
        escalation_group_id: int | None = None,
        page_size: int = PER_PAGE,
        policy: RetryPolicy = RetryPolicy(),
    ) -> None:
        self.name = name
        self.transport = FreshdeskTransport(client, policy)
        self.map = field_map or load_field_map()
        self.page_size = page_size
        self.writes = FreshdeskWrites(
            self.transport,
            writable_company_fields=self.map.company_fields.api_names(),
            allowed_tags=allowed_tags,
            requester_email=requester_email,
            group_id=escalation_group_id,
        )
        self.writer: Writer | None = FreshdeskOutboxWriter(self.writes, self.map.company_fields)

    @property
    def calls(self) -> int:
        return self.transport.calls

    def api_usage(self) -> tuple[int, int] | None:
        """Freshdesk budgets per minute (or hour), not per day: no daily quota to report."""
        return None

    def prepare_pulls(self, reads: Sequence[StreamRead]) -> None:
        """Nothing to do: Freshdesk has no batch read."""

    def pull(
        self, stream: str, state: str | None, *, start: dt.datetime | None = None
    ) -> Iterator[Page[Any]]:
        if stream == "companies":
            yield from self._companies()
        elif stream == "tickets":
            yield from self._tickets(state, start)
        else:
            raise ValueError(f"Freshdesk has no stream {stream!r}")

    def _get(self, path: str, params: dict[str, Any]) -> httpx.Response:
        return self.transport.request("GET", path, params=params)

    def _companies(self) -> Iterator[Page[Any]]:
        page = 1
        while True:
            response = self._get("companies", {"per_page": self.page_size, "page": page})
            items = [company_record(i, self.map.link_field) for i in _list(response)]
            records, rejected = validate_rows(
                FdCompany, items, source=self.name, stream="companies", id_key="id"
            )
            yield Page(records=records, rejected=rejected)
            if not next_link(response):
                return
            page += 1

    def _ratings(self, since: str) -> tuple[dict[int, str], str, list[Rejected]]:
        """Ticket id -> score of the ratings created since `since`, the newest one's time, and
        the ratings that could not be read (quarantined with the first tickets page)."""
        scores: dict[int, str] = {}
        unread: list[Rejected] = []
        newest, page = since, 1
        while True:
            params = {"created_since": since, "per_page": PER_PAGE, "page": page}
            response = self._get("surveys/satisfaction_ratings", params)
            records, rejected = validate_rows(
                FdRating, _list(response), source=self.name, stream="ratings", id_key="id"
            )
            unread += rejected
            for r in sorted(records, key=lambda r: r.created_at):
                if r.score is not None:
                    scores[r.ticket_id] = r.score  # the newest answer wins
                newest = max(newest, iso(r.created_at))
            if not next_link(response):
                return scores, newest, unread
            page += 1

    def _ticket_page(
        self, items: list[Any], scores: Mapping[int, str], seen: RecentMarkers
    ) -> Page[Any]:
        fresh = []
        for item in items:
            if isinstance(item, dict):
                marker = (str(item.get("id")), str(item.get("updated_at")))
                if marker in seen:
                    continue
                seen.add(marker)
                tid = item.get("id")
                csat = scores.get(tid) if isinstance(tid, int) else None
                item = ticket_record(item, self.map.ticket_statuses, csat)
            fresh.append(item)
        records, rejected = validate_rows(
            FdTicket, fresh, source=self.name, stream="tickets", id_key="id"
        )
        return Page(records=records, rejected=rejected)

    def _tickets(self, cursor: str | None, start: dt.datetime | None) -> Iterator[Page[Any]]:
        state: dict[str, Any] = json.loads(cursor) if cursor else {}
        since: str = state.get("since") or (iso(start) if start else BEGINNING)
        ratings_since: str = state.get("ratings_since") or since
        scores, newest_rating, unread = self._ratings(ratings_since)
        seen, delivered = RecentMarkers(), set()
        newest = since
        # live tickets, then deleted ones (the list leaves them out unless asked for)
        for extra in ({"include": "stats"}, {"filter": "deleted"}):
            for items in self._listing(since, extra):
                out = self._ticket_page(items, scores, seen)
                for record in out.records:
                    delivered.add(record.id)
                    if "filter" not in extra:  # the deleted list is re-read from `since`
                        newest = max(newest, iso(record.updated_at))
                cursor_now = {"since": newest, "ratings_since": ratings_since}
                rejected, unread = [*unread, *out.rejected], []
                yield out.model_copy(
                    update={"cursor": json.dumps(cursor_now), "rejected": rejected}
                )
        yield self._rated_leftovers(scores, delivered, seen, newest, newest_rating)

    def _listing(self, since: str, extra: dict[str, str]) -> Iterator[list[Any]]:
        """Pages of the tickets list updated since `since`, oldest change first; at the 300th
        page the list is asked again from the last `updated_at` seen."""
        restart, page = since, 1
        while True:
            params = {"updated_since": restart, "order_by": "updated_at", "order_type": "asc",
                      "per_page": self.page_size, "page": page, **extra}  # fmt: skip
            response = self._get("tickets", params)
            items = _list(response)
            yield items
            if not next_link(response):
                return
            if page < PAGE_LIMIT:
                page += 1
                continue
            last = _last_updated(items)
            if last is None or last <= restart:
                raise Fatal(
                    f"freshdesk: more than {PAGE_LIMIT * self.page_size} tickets updated at "
                    f"{restart}: the tickets list cannot page past them",
                    code="PAGE_LIMIT",
                )
            logger.info("freshdesk: page %s reached; listing again from %s", page, last)
            restart, page = last, 1

    def _rated_leftovers(
        self,
        scores: Mapping[int, str],
        delivered: set[int],
        seen: RecentMarkers,
        newest: str,
        newest_rating: str,
    ) -> Page[Any]:
        """Rated tickets the listing did not carry, read one by one, with the final cursor."""
        items = []
        for tid in sorted(set(scores) - delivered):
            try:
                items.append(self._get(f"tickets/{tid}", {"include": "stats"}).json())
            except Fatal as exc:
                if exc.status != 404:
                    raise
                logger.info("freshdesk: rated ticket %s is gone: %s", tid, exc)
        page = self._ticket_page(items, scores, seen)
        return page.model_copy(
            update={"cursor": json.dumps({"since": newest, "ratings_since": newest_rating})}
        )


def _list(response: httpx.Response) -> list[Any]:
    body = response.json()
    if not isinstance(body, list):
        raise Fatal(f"freshdesk: expected a JSON list from {response.request.url.path}")
    return body


def _last_updated(items: list[Any]) -> str | None:
    stamps = [i.get("updated_at") for i in items if isinstance(i, dict)]
    text = [s for s in stamps if isinstance(s, str)]
    return max(text) if text else None
