"""Typed usage records: workspaces, daily aggregates and raw export events."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import AliasChoices, Field

from connectors.records import AwareDatetime, Int64, OptDatetime, OptInt, OptStr, Record


class UsageWorkspace(Record):
    id: str
    name: OptStr = None
    domain: OptStr = None
    # the crm account the workspace names; the usage API's JSON calls it salesforce_account_id
    crm_account_id: OptStr = Field(
        default=None, validation_alias=AliasChoices("crm_account_id", "salesforce_account_id")
    )
    updated_at: OptDatetime = None


class UsageDay(Record):
    """One workspace's usage on one UTC day."""

    workspace_id: str
    day: dt.date
    active_users: Int64 = 0
    logins: Int64 = 0
    feature_events: Int64 = 0
    features_used: Int64 = 0
    seats_used: OptInt = None
    seats_purchased: OptInt = None


class UsageEvent(Record):
    """One raw event of the Mixpanel-style export."""

    event: str
    time: AwareDatetime
    distinct_id: str
    insert_id: OptStr = None
    workspace_id: str
    feature: OptStr = None

    @classmethod
    def from_export(cls, line: dict[str, Any]) -> UsageEvent:
        """From `{"event", "properties": {"time", "distinct_id", "$insert_id", ...}}`."""
        props = line.get("properties") or {}
        return cls.model_validate(
            {
                "event": line.get("event"),
                "time": props.get("time"),
                "distinct_id": None
                if props.get("distinct_id") is None
                else str(props["distinct_id"]),
                "insert_id": props.get("$insert_id"),
                "workspace_id": props.get("workspace_id"),
                "feature": props.get("feature"),
            }
        )


class UsageUser(Record):
    """One person with access to a workspace: role, status and when they last logged in."""

    id: str
    workspace_id: str
    email: OptStr = None
    name: OptStr = None
    role: OptStr = None
    status: OptStr = None
    last_login_at: OptDatetime = None
    created_at: OptDatetime = None
    updated_at: OptDatetime = None
