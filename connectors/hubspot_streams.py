"""HubSpot streams declared as data, and a stream's position: the last modified time
delivered and the ids delivered at exactly that time (see `connectors.hubspot`)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from connectors.base import Stream
from connectors.hubspot_fields import DEAL_PROPERTIES, HubSpotFieldMap
from connectors.hubspot_records import HsAccount, HsContact, HsOpportunity
from connectors.records import Record

SEARCH_WINDOW = 10_000  # HubSpot: one search pages through at most 10,000 results
SEARCH_LIMIT = 200  # results per search page
LIST_LIMIT = 100  # results per list page


@dataclass(frozen=True)
class HsStream:
    """A stream declared as data: object type, record model, modified property, mapping."""

    name: str
    object_type: str
    model: type[Record]
    modified: str
    properties: Callable[[HubSpotFieldMap], list[str]]
    associated: bool  # the record's company comes from its associations


SPECS: dict[str, HsStream] = {
    s.name: s
    for s in (
        HsStream(
            "companies",
            "companies",
            HsAccount,
            "hs_lastmodifieddate",
            lambda f: f.company_properties(),
            associated=False,
        ),
        HsStream(
            "deals",
            "deals",
            HsOpportunity,
            "hs_lastmodifieddate",
            lambda f: list(DEAL_PROPERTIES),
            associated=True,
        ),
        HsStream(
            "contacts",
            "contacts",
            HsContact,
            "lastmodifieddate",
            lambda f: f.contact_properties(),
            associated=True,
        ),
    )
}

STREAMS: dict[str, Stream] = {
    s.name: s
    for s in (
        Stream("companies", "account", "id", "modstamp", reconcile=True),
        Stream("deals", "opportunity", "id", "modstamp", reconcile=True),
        Stream("contacts", "contact", "id", "modstamp", reconcile=True),
    )
}


@dataclass(frozen=True)
class Position:
    """Where a stream stands: the last modified time delivered (epoch ms) and the ids
    delivered at exactly that time."""

    ms: int
    ids: frozenset[str] = field(default_factory=frozenset)

    def encode(self) -> str:
        return json.dumps({"ms": self.ms, "ids": sorted(self.ids, key=lambda i: (len(i), i))})

    @classmethod
    def decode(cls, cursor: str) -> Position:
        data = json.loads(cursor)
        return cls(int(data["ms"]), frozenset(str(i) for i in data.get("ids", [])))

    def after(self, rows: list[tuple[int, str]]) -> Position:
        """The position after delivering `rows` ((modified ms, id), ascending by time)."""
        if not rows:
            return self
        last = rows[-1][0]
        ids = {i for ms, i in rows if ms == last}
        return Position(last, frozenset(ids | (self.ids if last == self.ms else set())))


def to_ms(value: Any) -> int | None:
    if not value:
        return None
    text = str(value)
    if text.isdigit():
        return int(text)
    try:
        when = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    when = when if when.tzinfo else when.replace(tzinfo=dt.UTC)
    return int(when.timestamp() * 1000)


def modified_value(row: dict[str, Any], spec: HsStream) -> Any:
    return (row.get("properties") or {}).get(spec.modified) or row.get("updatedAt")
