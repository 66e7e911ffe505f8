"""Typed Zendesk records and write requests."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from connectors.records import (
    AwareDatetime,
    Int64,
    OptDatetime,
    OptFloat,
    OptInt,
    OptStr,
    Record,
)


class ZdOrganization(Record):
    id: Int64
    name: str
    external_id: OptStr = None
    domain_names: list[str] = Field(default_factory=list)
    organization_fields: dict[str, Any] = Field(default_factory=dict)
    tags: list[str] = Field(default_factory=list)
    created_at: OptDatetime = None  # validated so a garbled record is quarantined, not stored
    updated_at: AwareDatetime
    deleted_at: OptDatetime = None


class ZdUser(Record):
    id: Int64
    name: OptStr = None
    email: OptStr = None
    role: OptStr = None
    organization_id: OptInt = None
    created_at: OptDatetime = None
    updated_at: AwareDatetime


class ZdTicket(Record):
    """A ticket; deleted tickets arrive from the export with status 'deleted'."""

    id: Int64
    organization_id: OptInt = None
    requester_id: OptInt = None
    subject: OptStr = None
    status: str
    priority: OptStr = None
    type: OptStr = None
    tags: list[str] = Field(default_factory=list)
    external_id: OptStr = None
    created_at: AwareDatetime
    updated_at: AwareDatetime
    metric: ZdTicketMetric | None = None  # from the export's `metric_set` sideload
    # the ticket's `satisfaction_rating.score`: "good" | "bad" | "offered" | "unoffered";
    # None when the ticket has no rating object at all (a plan without CSAT)
    csat_score: OptStr = None

    @model_validator(mode="before")
    @classmethod
    def _rating(cls, data: Any) -> Any:
        rating = data.get("satisfaction_rating") if isinstance(data, dict) else None
        if isinstance(rating, dict) and isinstance(rating.get("score"), str):
            return {**data, "csat_score": rating["score"]}
        return data

    @model_validator(mode="before")
    @classmethod
    def _metric_set(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("metric_set"), dict):
            ms = data["metric_set"]
            return {
                **data,
                "metric": {"updated_at": data.get("updated_at"), **ms, "ticket_id": data.get("id")},
            }
        return data


class ZdTicketMetric(Record):
    """Reply/resolution times in calendar minutes, from the API's {calendar, business} pairs."""

    ticket_id: Int64
    reply_time_minutes: OptFloat = None
    full_resolution_minutes: OptFloat = None
    reopens: OptInt = None
    replies: OptInt = None
    solved_at: OptDatetime = None
    updated_at: AwareDatetime

    @model_validator(mode="before")
    @classmethod
    def _from_wire(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        out = dict(data)
        for wire, name in (
            ("reply_time_in_minutes", "reply_time_minutes"),
            ("full_resolution_time_in_minutes", "full_resolution_minutes"),
        ):
            value = data.get(wire)
            if name not in out and wire in data:
                out[name] = value.get("calendar") if isinstance(value, dict) else value
        return out


ZdTicket.model_rebuild()


class ZdSatisfactionRating(Record):
    id: Int64
    ticket_id: OptInt = None
    score: str
    created_at: AwareDatetime
    updated_at: AwareDatetime


class OrgUpdate(BaseModel):
    """Set these organization_fields on the organization with this id."""

    model_config = ConfigDict(frozen=True)

    id: int
    fields: dict[str, Any]


class TicketCreate(BaseModel):
    """A ticket to open; `external_id` is the second line of defence against duplicates."""

    model_config = ConfigDict(frozen=True)

    subject: str
    body: str
    tags: list[str] = Field(default_factory=list)
    priority: str | None = None
    type: str | None = None
    group_id: int | None = None
    organization_id: int | None = None
    requester_id: int | None = None
    ticket_form_id: int | None = None
    external_id: str

    def payload(self) -> dict[str, Any]:
        """The `ticket` object of POST /tickets.json, only the attributes that are set."""
        ticket: dict[str, Any] = {
            "subject": self.subject,
            "comment": {"body": self.body},
            "tags": list(self.tags),
            "external_id": self.external_id,
        }
        for name in (
            "priority",
            "type",
            "group_id",
            "organization_id",
            "requester_id",
            "ticket_form_id",
        ):
            value = getattr(self, name)
            if value is not None:
                ticket[name] = value
        return ticket
