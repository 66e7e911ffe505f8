"""Typed HubSpot records and the object -> logical-dict mapping.

The records carry the same logical fields as the other crm's (account, opportunity,
contact), so `sync.mapping` stores them alike: a company is an account, a deal an
opportunity (closed won/lost from `hs_is_closed(_won)` or the configured stages, its type
from `dealtype` through the property map), a contact a contact.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field

from connectors.hubspot_fields import HubSpotFieldMap
from connectors.records import (
    AwareDatetime,
    OptDatetime,
    OptFloat,
    OptStr,
    Record,
    blank_to_none,
    parse_iso,
)
from connectors.write_fields import FieldRule

_ID = re.compile(r"[0-9]{1,20}")


def _hubspot_id(value: str) -> str:
    if not _ID.fullmatch(value):
        raise ValueError(f"not a HubSpot object id (digits): {value[:40]!r}")
    return value


HsId = Annotated[
    str, BeforeValidator(lambda v: str(v) if isinstance(v, int) else v), AfterValidator(_hubspot_id)
]
OptHsId = Annotated[HsId | None, BeforeValidator(blank_to_none)]


def _date(value: Any) -> Any:
    """A HubSpot date: `2024-09-26`, a midnight datetime, or epoch milliseconds."""
    value = blank_to_none(value)
    if isinstance(value, str) and value.isdigit():
        return dt.datetime.fromtimestamp(int(value) / 1000, dt.UTC).date()
    if isinstance(value, str) and "T" in value:
        when = parse_iso(value.replace("Z", "+00:00"))
        return when.date() if when else value
    return value


HsDate = Annotated[dt.date | None, BeforeValidator(_date)]


class HsAccount(Record):
    id: HsId
    name: str
    website: OptStr = None
    owner_id: OptHsId = None
    owner_name: OptStr = None
    owner_email: OptStr = None
    parent_id: OptHsId = None
    arr: OptFloat = None
    tier: OptStr = None
    segment: OptStr = None
    lifecycle_stage: OptStr = None
    customer_since: HsDate = None
    renewal_date: HsDate = None
    organization_id: OptStr = None
    workspace_id: OptStr = None
    is_deleted: bool = False
    modstamp: AwareDatetime
    extra: dict[str, Any] = Field(default_factory=dict)


class HsOpportunity(Record):
    id: HsId
    account_id: OptHsId = None
    name: OptStr = None
    type: OptStr = None
    stage: OptStr = None
    amount: OptFloat = None
    close_date: HsDate = None
    is_closed: bool = False
    is_won: bool = False
    is_deleted: bool = False
    modstamp: AwareDatetime


class HsContact(Record):
    id: HsId
    account_id: OptHsId = None
    name: OptStr = None
    email: OptStr = None
    title: OptStr = None
    role: OptStr = None
    is_champion: bool = False
    is_deleted: bool = False
    created: OptDatetime = None
    modstamp: AwareDatetime


Owners = dict[str, tuple[str | None, str | None]]  # owner id -> (name, email)


def _flag(value: Any) -> bool | None:
    return None if value in (None, "") else str(value).lower() == "true"


def _typed(value: Any, rule: FieldRule | None) -> Any:
    """A written-back property as pulsehub rendered it: HubSpot sends every value as text, so
    a number pulsehub wrote comes back as a number (and "" as None) for the reassert diff."""
    value = blank_to_none(value)
    if rule is None or value is None or rule.digits is None:
        return value
    try:
        number = float(value)
    except (TypeError, ValueError):
        return value  # a hand edit that is not a number: it differs, and is rewritten
    return round(number) if rule.digits == 0 else number


def company(obj: dict[str, Any], fields: HubSpotFieldMap, owners: Owners) -> dict[str, Any]:
    p = obj.get("properties") or {}
    rules = {r.api: r for r in fields.writable_fields.values()}
    owner_id = blank_to_none(p.get(fields.owner))
    name, email = owners.get(str(owner_id), (None, None)) if owner_id else (None, None)
    logical: dict[str, Any] = {
        "id": obj.get("id"),
        "name": p.get("name"),
        "website": blank_to_none(p.get("website")) or blank_to_none(p.get("domain")),
        "owner_id": owner_id,
        "owner_name": name,
        "owner_email": email,
        "parent_id": p.get(fields.parent) if fields.parent else None,
        "is_deleted": bool(obj.get("archived")),
        "modstamp": p.get("hs_lastmodifieddate"),
        "extra": {k: _typed(p.get(k), rules.get(k)) for k in fields.extra_properties},
    }
    for attr, prop in fields.mapped().items():
        logical[attr] = p.get(prop)
    return logical


def deal(obj: dict[str, Any], fields: HubSpotFieldMap, company_id: str | None) -> dict[str, Any]:
    p = obj.get("properties") or {}
    stage = blank_to_none(p.get("dealstage"))
    closed = _flag(p.get("hs_is_closed"))
    won = _flag(p.get("hs_is_closed_won"))
    if closed is None:
        closed = stage in fields.won_stages or stage in fields.lost_stages
    if won is None:
        won = stage in fields.won_stages
    dealtype = blank_to_none(p.get("dealtype"))
    return {
        "id": obj.get("id"),
        "account_id": company_id,
        "name": p.get("dealname"),
        "type": fields.deal_types.get(dealtype, dealtype) if dealtype else None,
        "stage": stage,
        "amount": p.get("amount"),
        "close_date": p.get("closedate"),
        "is_closed": closed,
        "is_won": won and closed,
        "is_deleted": bool(obj.get("archived")),
        "modstamp": p.get("hs_lastmodifieddate"),
    }


def contact(obj: dict[str, Any], fields: HubSpotFieldMap, company_id: str | None) -> dict[str, Any]:
    p = obj.get("properties") or {}
    name = " ".join(n for n in (p.get("firstname"), p.get("lastname")) if n) or None
    champion = _flag(p.get(fields.contact_champion)) if fields.contact_champion else None
    return {
        "id": obj.get("id"),
        "account_id": company_id,
        "name": name,
        "email": p.get("email"),
        "title": p.get("jobtitle"),
        "role": p.get(fields.contact_role) if fields.contact_role else None,
        "is_champion": bool(champion),
        "is_deleted": bool(obj.get("archived")),
        "created": p.get("createdate"),
        "modstamp": p.get("lastmodifieddate") or p.get("hs_lastmodifieddate"),
    }
