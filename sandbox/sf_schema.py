"""Salesforce object metadata (what describe returns) and value conversion to and from the wire."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sandbox.formats import parse_datetime, sf_datetime

READ_ONLY = {
    "Id",
    "IsDeleted",
    "CreatedDate",
    "LastModifiedDate",
    "SystemModstamp",
    "IsClosed",
    "IsWon",
    "Name@Contact",
    "Name@User",
}
PREFIX = {"Account": "001", "Opportunity": "006", "Contact": "003", "User": "005", "Task": "00T"}
PICKLISTS = {
    "Tier__c": ("Strategic", "Tier 1", "Tier 2", "Tier 3"),
    "Segment__c": ("Enterprise", "Mid-Market", "SMB"),
    "Lifecycle_Stage__c": ("Onboarding", "Adoption", "Renewal"),
    "Renewal_Risk_Level__c": ("Low", "Medium", "High"),
    "Role__c": ("Champion", "Economic Buyer", "Executive Sponsor", "User", "Admin"),
    "Type@Opportunity": ("New Business", "Renewal", "Expansion"),
    "Status@Task": (
        "Not Started",
        "In Progress",
        "Completed",
        "Waiting on someone else",
        "Deferred",
    ),
    "Priority@Task": ("High", "Normal", "Low"),
}
RESTRICTED = {"Tier__c", "Segment__c", "Lifecycle_Stage__c", "Renewal_Risk_Level__c", "Role__c"}


@dataclass(frozen=True)
class Field:
    """One field of an sObject."""

    name: str
    type: str
    reference_to: str | None = None
    relationship: str | None = None

    @property
    def custom(self) -> bool:
        return self.name.endswith("__c")


def _f(spec: str) -> list[Field]:
    out = []
    for item in spec.split():
        name, _, rest = item.partition(":")
        kind, _, ref = rest.partition(">")
        rel = name[:-2] if ref and name.endswith("Id") else None
        out.append(Field(name, kind, ref or None, rel))
    return out


_COMMON = (
    "Id:id IsDeleted:boolean CreatedDate:datetime LastModifiedDate:datetime SystemModstamp:datetime"
)
FIELDS: dict[str, list[Field]] = {
    "Account": _f(
        f"{_COMMON} Name:string Website:url Type:picklist Industry:picklist OwnerId:reference>User "
        "ParentId:reference>Account NumberOfEmployees:int ARR__c:currency Tier__c:picklist "
        "Segment__c:picklist Lifecycle_Stage__c:picklist Customer_Since__c:date Renewal_Date__c:date "
        "Zendesk_Org_Id__c:string Usage_Workspace_Id__c:string Health_Score__c:double "
        "Health_Status__c:string Health_Trend__c:double Health_Reasons__c:textarea "
        "Renewal_Risk__c:percent Renewal_Risk_Level__c:picklist Renewal_Risk_Drivers__c:textarea "
        "Pulsehub_Synced_At__c:datetime Onboarding_Phase__c:string Success_Plan__c:url "
        "Success_Objectives__c:textarea Go_Live_Date__c:date Implementation_Notes__c:textarea "
        "Implementation_Owner__c:reference>User"
    ),
    "Opportunity": _f(
        f"{_COMMON} AccountId:reference>Account OwnerId:reference>User Name:string Type:picklist "
        "StageName:picklist Amount:currency CloseDate:date Probability:percent IsClosed:boolean "
        "IsWon:boolean Term_Months__c:double"
    ),
    "Contact": _f(
        f"{_COMMON} AccountId:reference>Account OwnerId:reference>User FirstName:string "
        "LastName:string Name:string Email:email Title:string Role__c:picklist Is_Champion__c:boolean"
    ),
    "User": _f(
        f"{_COMMON} Name:string FirstName:string LastName:string Email:email "
        "Username:string IsActive:boolean"
    ),
    "Task": _f(
        f"{_COMMON} WhatId:reference>Account OwnerId:reference>User Subject:string "
        "Description:textarea ActivityDate:date Status:picklist Priority:picklist"
    ),
}
BY_NAME: dict[str, dict[str, Field]] = {
    obj: {f.name.lower(): f for f in fields} for obj, fields in FIELDS.items()
}
RELATIONSHIPS: dict[str, dict[str, Field]] = {
    obj: {f.relationship.lower(): f for f in fields if f.relationship}
    for obj, fields in FIELDS.items()
}


def updateable(obj: str, f: Field) -> bool:
    """Whether the API may write the field."""
    return f.name not in READ_ONLY and f"{f.name}@{obj}" not in READ_ONLY


def canonical_object(name: str) -> str | None:
    """The object's API name from any casing, or None."""
    return next((o for o in FIELDS if o.lower() == name.lower()), None)


def to_wire(f: Field, value: Any) -> Any:
    """Python value -> JSON value of a field."""
    if value is None:
        return None
    if f.type == "datetime" and isinstance(value, dt.datetime):
        return sf_datetime(value)
    if f.type == "date" and isinstance(value, dt.date):
        return value.isoformat()
    return value  # an injected value of another type is served as it is


def from_wire(obj: str, f: Field, value: Any) -> Any:
    """JSON value -> Python value, raising ValueError(statusCode, message) when invalid."""
    if value is None:
        return None
    try:
        if f.type in ("double", "currency", "percent"):
            if isinstance(value, bool) or not isinstance(value, int | float | str):
                raise TypeError
            return float(value)
        if f.type == "int":
            return int(value)
        if f.type == "boolean":
            if not isinstance(value, bool):
                raise TypeError
            return value
        if f.type == "date":
            return dt.date.fromisoformat(str(value)[:10])
        if f.type == "datetime":
            return parse_datetime(str(value))
    except (TypeError, ValueError) as exc:
        raise ValueError(
            "INVALID_TYPE_ON_FIELD_IN_RECORD", f"{f.name}: value not of required type: {value}"
        ) from exc
    text = str(value)
    allowed = PICKLISTS.get(f.name) or PICKLISTS.get(f"{f.name}@{obj}")
    if f.name in RESTRICTED and allowed and text not in allowed:
        raise ValueError(
            "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
            f"{f.name}: bad value for restricted picklist field: {text}",
        )
    if f.type in ("string", "picklist", "email", "url") and len(text) > 255:
        raise ValueError("STRING_TOO_LONG", f"{f.name}: data value too large: {text[:40]}...")
    return text
