"""Zendesk streams declared as data.

STREAMS are what sync pulls (`connectors.base.Stream`); SPECS hold each stream's vendor
details (endpoint, JSON key, page strategy). Ticket metrics and CSAT ride along with the
ticket export (`include=metric_sets`, the ticket's own rating), so their separate listings
(and users) stay readable but feed no model entity.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from connectors.base import Stream
from connectors.records import Record
from connectors.zendesk_records import (
    ZdOrganization,
    ZdSatisfactionRating,
    ZdTicket,
    ZdTicketMetric,
    ZdUser,
)

Strategy = Literal["export_cursor", "export_time", "list_cursor"]


@dataclass(frozen=True)
class ZdStream:
    """A stream declared as data: endpoint, JSON key, record model, key and page strategy."""

    name: str
    path: str
    key: str
    model: type[Record]
    strategy: Strategy
    primary_key: str = "id"
    cursor_field: str = "updated_at"
    since_param: str | None = None  # list streams filterable by time (start_time=)
    full_refresh: bool = False  # no way to ask for changes only: re-list at most every N hours
    include: str | None = None  # sideloads asked for on every page (e.g. metric_sets)


SPECS: dict[str, ZdStream] = {
    s.name: s
    for s in (
        ZdStream(
            "organizations",
            "incremental/organizations.json",
            "organizations",
            ZdOrganization,
            "export_time",
        ),
        ZdStream("users", "incremental/users/cursor.json", "users", ZdUser, "export_cursor"),
        ZdStream(
            "tickets",
            "incremental/tickets/cursor.json",
            "tickets",
            ZdTicket,
            "export_cursor",
            include="metric_sets",  # metrics ride along: no separate metrics listing needed
        ),
        ZdStream(
            "ticket_metrics",
            "ticket_metrics.json",
            "ticket_metrics",
            ZdTicketMetric,
            "list_cursor",
            primary_key="ticket_id",
            full_refresh=True,
        ),
        ZdStream(
            "satisfaction_ratings",
            "satisfaction_ratings.json",
            "satisfaction_ratings",
            ZdSatisfactionRating,
            "list_cursor",
            since_param="start_time",
        ),
    )
}

STREAMS: dict[str, Stream] = {
    s.name: s
    for s in (
        Stream("organizations", "organization", "id", "updated_at", reconcile=True),
        Stream("tickets", "ticket", "id", "updated_at", refresh=True),
    )
}
