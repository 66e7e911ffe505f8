"""The HubSpot view of the synthetic world: the Salesforce objects as companies, deals, contacts,
owners and tasks, plus what only HubSpot holds (written properties, created tasks).

The world keeps one customer base (`World.sf`); HubSpot objects are derived from it on every
request, so `sandbox.evolve` / `sandbox.changes` edits show up here as new
`hs_lastmodifieddate`s. Ids are HubSpot-style numeric strings, given in the world's order and
never reused. Property values are strings, as the v3 API returns them; datetimes are ISO-8601
with milliseconds and `Z`. A deleted Salesforce record is an archived HubSpot object.

Simplified: one pipeline ("default"); deal stages are the default pipeline's internal names
(closedwon, closedlost and three open stages); only the properties pulsehub reads or writes
exist (an unknown property in a write is a 400, as in HubSpot).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from sandbox.hubspot_limits import HubSpotLimits
from sandbox.world import World

SF_OBJECT = {"companies": "Account", "deals": "Opportunity", "contacts": "Contact"}
ID_BASE = {
    "companies": 18_000_000_000,
    "deals": 9_000_000_000,
    "contacts": 51_000,
    "tasks": 40_000_000_000,
    "owners": 100_000,
}
SEARCH_WINDOW = 10_000  # HubSpot: a search pages through at most 10,000 results
# properties pulsehub writes on a company (the portal's custom "Customer health" group)
HEALTH_PROPERTIES = frozenset(
    {
        "pulsehub_health_score",
        "pulsehub_health_band",
        "pulsehub_health_trend",
        "pulsehub_health_reasons",
        "pulsehub_renewal_risk",
        "pulsehub_renewal_risk_level",
        "pulsehub_renewal_risk_drivers",
        "pulsehub_synced_at",
    }
)
TASK_PROPERTIES = frozenset(
    {
        "hs_task_subject",
        "hs_task_body",
        "hs_timestamp",
        "hs_task_status",
        "hs_task_priority",
        "hubspot_owner_id",
        "pulsehub_task_key",
        "hs_task_type",
    }
)
DATETIME_PROPERTIES = frozenset(
    {"hs_lastmodifieddate", "lastmodifieddate", "createdate", "closedate", "hs_timestamp"}
)
DEAL_STAGES = {"Closed Won": "closedwon", "Closed Lost": "closedlost"}
OPEN_STAGES = ("qualifiedtobuy", "presentationscheduled", "contractsent")
DEAL_TYPES = {"New Business": "newbusiness", "Renewal": "renewal", "Expansion": "existingbusiness"}


@dataclass
class HubSpotState:
    """What only the HubSpot simulator holds: id maps, written properties, tasks, limits."""

    search_window: int = SEARCH_WINDOW
    limits: HubSpotLimits = field(default_factory=HubSpotLimits)
    ids: dict[str, dict[str, str]] = field(default_factory=dict)  # type -> world id -> HS id
    world_ids: dict[str, dict[str, str]] = field(default_factory=dict)  # type -> HS id -> world id
    written: dict[tuple[str, str], dict[str, str | None]] = field(default_factory=dict)
    modified: dict[tuple[str, str], dt.datetime] = field(default_factory=dict)
    tasks: dict[str, dict[str, Any]] = field(default_factory=dict)  # HS id -> task object
    # records with exactly this modified time (tests of many records in one millisecond)
    pinned: dict[tuple[str, str], dt.datetime] = field(default_factory=dict)

    def hs_id(self, kind: str, world_id: str) -> str:
        """The HubSpot id of a world record, given on first sight and kept."""
        known = self.ids.setdefault(kind, {})
        if world_id not in known:
            value = str(ID_BASE[kind] + len(known) + 1)
            known[world_id] = value
            self.world_ids.setdefault(kind, {})[value] = world_id
        return known[world_id]

    def world_id(self, kind: str, hs_id: str) -> str | None:
        return self.world_ids.get(kind, {}).get(hs_id)


def hs_datetime(value: Any) -> str | None:
    """`2024-01-02T03:04:05.678Z` from a datetime or the world's ISO text."""
    when = as_datetime(value)
    if when is None:
        return None
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def as_datetime(value: Any) -> dt.datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        when = value
    elif isinstance(value, dt.date):
        when = dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC)
    else:
        text = str(value).replace("Z", "+00:00")
        when = dt.datetime.fromisoformat(text if "T" in text or " " in text else text + "T00:00")
    return (when if when.tzinfo else when.replace(tzinfo=dt.UTC)).astimezone(dt.UTC)


def to_ms(value: Any) -> int | None:
    """Epoch milliseconds of a datetime property value (ISO text or a number)."""
    if value is None or value == "":
        return None
    text = str(value)
    if text.lstrip("-").isdigit():
        return int(text)
    when = as_datetime(text)
    return None if when is None else int(when.timestamp() * 1000)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _domain(website: str | None) -> str | None:
    if not website:
        return None
    host = urlsplit(website if "//" in website else f"//{website}").hostname or ""
    return host.removeprefix("www.") or None


def owner_objects(world: World, hs: HubSpotState) -> list[dict[str, Any]]:
    """Owners (`/crm/v3/owners`) from the world's users, in id order."""
    out: list[dict[str, Any]] = []
    for user in world.users:
        created = hs_datetime(user.get("CreatedDate"))
        out.append(
            {
                "id": hs.hs_id("owners", user["Id"]),
                "email": user.get("Email"),
                "type": "PERSON",
                "firstName": user.get("FirstName"),
                "lastName": user.get("LastName"),
                "userId": int(hs.hs_id("owners", user["Id"])) + 7_000_000,
                "createdAt": created,
                "updatedAt": hs_datetime(user.get("SystemModstamp")),
                "archived": not user.get("IsActive", True),
                "teams": [],
            }
        )
    return sorted(out, key=lambda o: int(o["id"]))


def _modified(hs: HubSpotState, kind: str, hs_id: str, stamp: Any) -> dt.datetime:
    if (pinned := hs.pinned.get((kind, hs_id))) is not None:
        return pinned
    when = as_datetime(stamp) or dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
    written = hs.modified.get((kind, hs_id))
    return max(when, written) if written else when


def _company(world: World, hs: HubSpotState, acc: dict[str, Any]) -> dict[str, Any]:
    cid = hs.hs_id("companies", acc["Id"])
    parent = acc.get("ParentId")
    props: dict[str, Any] = {
        "name": acc.get("Name"),
        "domain": _domain(acc.get("Website")),
        "website": acc.get("Website"),
        "hubspot_owner_id": hs.hs_id("owners", acc["OwnerId"]) if acc.get("OwnerId") else None,
        "lifecyclestage": "customer" if acc.get("Type") == "Customer" else "other",
        "arr": acc.get("ARR__c"),
        "tier": acc.get("Tier__c"),
        "segment": acc.get("Segment__c"),
        "cs_lifecycle_stage": acc.get("Lifecycle_Stage__c"),
        "customer_since": acc.get("Customer_Since__c"),
        "renewal_date": acc.get("Renewal_Date__c"),
        # the Zendesk integration keeps the organization id on every company it links (as
        # the Salesforce org's organizations name their account in external_id)
        "zendesk_org_id": acc.get("Zendesk_Org_Id__c") or world.account_orgs.get(acc["Id"]),
        "usage_workspace_id": acc.get("Usage_Workspace_Id__c"),
        "hs_parent_company_id": hs.hs_id("companies", parent) if parent else None,
        "numberofemployees": acc.get("NumberOfEmployees"),
        "industry": acc.get("Industry"),
    }
    props |= {name: None for name in HEALTH_PROPERTIES}
    props |= hs.written.get(("companies", cid), {})
    return _object(hs, "companies", cid, acc, props)


def _deal(world: World, hs: HubSpotState, opp: dict[str, Any]) -> dict[str, Any]:
    did = hs.hs_id("deals", opp["Id"])
    stage = DEAL_STAGES.get(opp.get("StageName") or "")
    if stage is None:
        stage = OPEN_STAGES[min(2, int((opp.get("Probability") or 0) // 34))]
    close = as_datetime(opp.get("CloseDate"))
    props = {
        "dealname": opp.get("Name"),
        "amount": opp.get("Amount"),
        "dealstage": stage,
        "pipeline": "default",
        "closedate": hs_datetime(close),
        "dealtype": DEAL_TYPES.get(opp.get("Type") or "", opp.get("Type")),
        "hs_is_closed": bool(opp.get("IsClosed")),
        "hs_is_closed_won": bool(opp.get("IsWon")),
        "hubspot_owner_id": hs.hs_id("owners", opp["OwnerId"]) if opp.get("OwnerId") else None,
    }
    return _object(hs, "deals", did, opp, props)


def _contact(world: World, hs: HubSpotState, con: dict[str, Any]) -> dict[str, Any]:
    pid = hs.hs_id("contacts", con["Id"])
    props = {
        "email": con.get("Email"),
        "firstname": con.get("FirstName"),
        "lastname": con.get("LastName"),
        "jobtitle": con.get("Title"),
        "cs_role": con.get("Role__c"),
        "cs_champion": bool(con.get("Is_Champion__c")),
        "associatedcompanyid": hs.hs_id("companies", con["AccountId"])
        if con.get("AccountId")
        else None,
    }
    obj = _object(hs, "contacts", pid, con, props)
    obj["properties"]["lastmodifieddate"] = obj["properties"]["hs_lastmodifieddate"]
    return obj


def _object(
    hs: HubSpotState, kind: str, hs_id: str, row: dict[str, Any], props: dict[str, Any]
) -> dict[str, Any]:
    created = hs_datetime(row.get("CreatedDate"))
    modified = hs_datetime(_modified(hs, kind, hs_id, row.get("SystemModstamp")))
    all_props = {k: _text(v) for k, v in props.items()}
    all_props |= {"hs_object_id": hs_id, "createdate": created, "hs_lastmodifieddate": modified}
    return {
        "id": hs_id,
        "properties": all_props,
        "createdAt": created,
        "updatedAt": modified,
        "archived": bool(row.get("IsDeleted")),
    }


BUILDERS = {"companies": _company, "deals": _deal, "contacts": _contact}


def objects(world: World, hs: HubSpotState, kind: str) -> list[dict[str, Any]]:
    """Every object of `kind` (archived ones included), in id order."""
    if kind == "tasks":
        return [hs.tasks[k] for k in sorted(hs.tasks, key=int)]
    build = BUILDERS[kind]
    out = [build(world, hs, row) for row in world.sf[SF_OBJECT[kind]].values()]
    return sorted(out, key=lambda o: int(o["id"]))


def find(world: World, hs: HubSpotState, kind: str, hs_id: str) -> dict[str, Any] | None:
    """One live (not archived) object by HubSpot id."""
    if kind == "tasks":
        return hs.tasks.get(hs_id)
    world_id = hs.world_id(kind, hs_id)
    row = world.sf[SF_OBJECT[kind]].get(world_id) if world_id else None
    if row is None or row.get("IsDeleted"):
        return None
    return BUILDERS[kind](world, hs, row)


def associations(world: World, hs: HubSpotState, kind: str, hs_id: str) -> list[str]:
    """Company ids the object is associated with (deal, contact and task -> company)."""
    if kind == "tasks":
        return list(hs.tasks.get(hs_id, {}).get("_companies", []))
    world_id = hs.world_id(kind, hs_id)
    row = world.sf[SF_OBJECT[kind]].get(world_id or "") if kind in SF_OBJECT else None
    if row is None or not row.get("AccountId"):
        return []
    return [hs.hs_id("companies", row["AccountId"])]
