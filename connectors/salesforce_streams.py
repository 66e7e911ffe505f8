"""Salesforce streams declared as data, and the keyset cursor on (SystemModstamp, Id).

STREAMS are what sync pulls (`connectors.base.Stream`); SPECS hold each stream's vendor
details (object, columns, record mapping), `users` included, which no model entity needs.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from connectors.base import Stream
from connectors.records import Record
from connectors.salesforce_fields import SalesforceFieldMap
from connectors.salesforce_records import (
    SfAccount,
    SfContact,
    SfOpportunity,
    SfUser,
    account_from_row,
    contact_from_row,
    opportunity_from_row,
    user_from_row,
)


@dataclass(frozen=True)
class SfStream:
    """A stream declared as data: object, columns, cursor field, key and record mapping."""

    name: str
    sobject: str
    model: type[Record]
    select: Callable[[SalesforceFieldMap], list[str]]
    to_logical: Callable[[dict[str, Any], SalesforceFieldMap], dict[str, Any]]
    soft_delete: bool = True  # has IsDeleted: pulled through queryAll so deletes arrive
    cursor_field: str = "SystemModstamp"
    primary_key: str = "Id"


def _contact_select(f: SalesforceFieldMap) -> list[str]:
    extra = [n for n in (f.contact_role, f.contact_champion) if n]
    base = ["Id", "AccountId", "Name", "Email", "Title", *extra]
    return [*base, "IsDeleted", "CreatedDate", "SystemModstamp"]


OPPORTUNITY_FIELDS = ("Id", "AccountId", "Name", "Type", "StageName", "Amount", "CloseDate",
                      "IsClosed", "IsWon", "IsDeleted", "SystemModstamp")  # fmt: skip

SPECS: dict[str, SfStream] = {
    s.name: s
    for s in (
        SfStream(
            "users",
            "User",
            SfUser,
            lambda f: ["Id", "Name", "Email", "IsActive", "SystemModstamp"],
            user_from_row,
            soft_delete=False,
        ),
        SfStream("accounts", "Account", SfAccount, lambda f: f.account_select(), account_from_row),
        SfStream(
            "opportunities",
            "Opportunity",
            SfOpportunity,
            lambda f: [*OPPORTUNITY_FIELDS, *([f.opportunity_term] if f.opportunity_term else [])],
            opportunity_from_row,
        ),
        SfStream("contacts", "Contact", SfContact, _contact_select, contact_from_row),
    )
}

STREAMS: dict[str, Stream] = {
    s.name: s
    for s in (
        Stream("accounts", "account", "id", "modstamp", reconcile=True),
        Stream("opportunities", "opportunity", "id", "modstamp", reconcile=True),
        Stream("contacts", "contact", "id", "modstamp", reconcile=True),
    )
}


SEEN_MAX = 200  # ids a cursor keeps at its rendered time; beyond, the Id-order rule alone


@dataclass(frozen=True)
class Keyset:
    """Position in a stream: the last (SystemModstamp, Id) delivered; id '' = from ts on.

    `seen`: every Id delivered at exactly `ts` as rendered, the last one included (empty when
    more than `SEEN_MAX`). A server that stores SystemModstamp more finely than it renders it
    sends the rows of the cursor's rendered time again, in stored-time order, which need not
    be Id order: only these ids are the ones already delivered (`after_cursor`)."""

    ts: dt.datetime
    id: str = ""
    seen: frozenset[str] = frozenset()

    def encode(self) -> str:
        data: dict[str, Any] = {"ts": self.ts.isoformat(), "id": self.id}
        if self.seen:
            data["seen"] = sorted(self.seen)
        return json.dumps(data)

    @classmethod
    def decode(cls, cursor: str) -> Keyset:
        data = json.loads(cursor)
        seen = data.get("seen") or ()
        return cls(dt.datetime.fromisoformat(data["ts"]), data.get("id", ""), frozenset(seen))


def modstamp(row: dict[str, Any], spec: SfStream) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(str(row[spec.cursor_field]))
    except (KeyError, ValueError):
        return None


def after_cursor(
    rows: list[dict[str, Any]], position: Keyset | None, spec: SfStream
) -> list[dict[str, Any]]:
    """Rows strictly after the cursor as returned, dropping boundary rows sent again.

    A server may store SystemModstamp more precisely than it renders it (the value we keep
    in the cursor), so `>` can match rows of the cursor's own rendered time, delivered or not
    (stored later than the cursor row, so still to come, even with a smaller Id): the
    cursor's `seen` ids are dropped, the others kept.
    """
    if position is None or not position.id:
        return rows
    if position.seen:  # the ids delivered at the cursor's rendered time, whatever their order
        ts, seen = position.ts, position.seen
        return [
            r for r in rows
            if (stamp := modstamp(r, spec)) is None or stamp > ts or (stamp == ts and r["Id"] not in seen)
        ]  # fmt: skip
    mark = (position.ts, position.id)  # a cursor saved before `seen`, or too many at its time
    return [r for r in rows if (stamp := modstamp(r, spec)) is None or (stamp, r["Id"]) > mark]


def soql_datetime(value: dt.datetime) -> str:
    """A SOQL datetime literal in UTC (unquoted ISO-8601 with Z)."""
    if value.tzinfo is None:
        raise ValueError("naive datetime: pass an aware datetime")
    utc = value.astimezone(dt.UTC)
    text = utc.strftime("%Y-%m-%dT%H:%M:%S")
    if utc.microsecond:
        text += f".{utc.microsecond // 1000:03d}"
    return text + "Z"


def keyset_where(spec: SfStream, position: Keyset | None) -> str:
    """`>=` on the cursor field with an Id tiebreak: nothing at a boundary lost or repeated."""
    if position is None:
        return ""
    ts, field = soql_datetime(position.ts), spec.cursor_field
    if not position.id:
        return f" WHERE {field} >= {ts}"
    key = position.id.replace("\\", "\\\\").replace("'", "\\'")
    return f" WHERE ({field} > {ts} OR ({field} = {ts} AND {spec.primary_key} > '{key}'))"
