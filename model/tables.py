"""The unified account model: SQLAlchemy 2.0 typed ORM tables.

Helpdesk ids are 64-bit (real ones exceed 2**31), hence BigInteger wherever they are stored.

Vendor-neutral: columns say what a thing is for a CS team, never which API it came from,
except for the external ids that identity resolution links back to a canonical `Account`.
Escalation, scoring and sync bookkeeping tables live in model.score_tables and
model.sync_tables; they are re-exported here so `from model.tables import X` serves them all.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from model.change_tables import AccountChange, InputsDigest
from model.cs_tables import AccountStage, CsmCover, Handoff, OnboardingPhase
from model.match_fields import (
    ACCOUNT_MATCH_FIELDS,
    IDENTITY_MATCH_FIELDS,
    MATCH_CHANGED_AT,
    STAMP_ON_CHANGE,
)
from model.ops_tables import AppUser, DataRequest, ErasedKey, RcaReview
from model.orm import Base, UTCDateTime, utcnow
from model.own_tags import ticket_content_key, ticket_state_key
from model.score_tables import (
    BookMixDay,
    Escalation,
    EscalationEvaluation,
    HealthSnapshot,
    RiskModelVersion,
    ScoreAudit,
    ScoreOverride,
)
from model.sync_tables import (
    OutboxItem,
    QuarantinedRecord,
    ReconcileSeen,
    SourceMetadata,
    SyncCursor,
    SyncRun,
    WebhookReceipt,
    WrittenState,
)
from model.voice_tables import SurveyResponse, SurveyResponseTheme, TicketTheme, VoiceAlert

__all__ = [
    "Account",
    "AccountChange",
    "AccountStage",
    "AppUser",
    "Base",
    "BookMixDay",
    "Contact",
    "CsmCover",
    "DataRequest",
    "ErasedKey",
    "Escalation",
    "EscalationEvaluation",
    "ExternalIdentity",
    "Handoff",
    "HealthSnapshot",
    "InputsDigest",
    "OnboardingPhase",
    "Opportunity",
    "OutboxItem",
    "QuarantinedRecord",
    "RcaReview",
    "ReconcileSeen",
    "RiskModelVersion",
    "ScoreAudit",
    "ScoreOverride",
    "SourceMetadata",
    "SurveyResponse",
    "SurveyResponseTheme",
    "SyncCursor",
    "SyncRun",
    "Ticket",
    "TicketTheme",
    "UTCDateTime",
    "UsageDaily",
    "VoiceAlert",
    "WebhookReceipt",
    "WrittenState",
    "utcnow",
]


class Account(Base):
    """The canonical customer account; the crm is its system of record.

    crm_source: the configured crm source whose record (`crm_id`) this account is — with two
    crm sources, the primary one's (see sync/instances.py); crm ids are unique per source.
    """

    __tablename__ = "accounts"
    __table_args__ = (
        UniqueConstraint("crm_source", "crm_id", name="uq_accounts_crm_source_id"),
        {"info": {STAMP_ON_CHANGE: {MATCH_CHANGED_AT: ACCOUNT_MATCH_FIELDS}}},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    crm_source: Mapped[str | None] = mapped_column(String(20))
    # linking survey responses looks accounts up by crm id alone (sync/voice.py)
    crm_id: Mapped[str | None] = mapped_column(String(18), index=True)
    name: Mapped[str] = mapped_column(String(255))
    website: Mapped[str | None] = mapped_column(String(255))
    domain: Mapped[str | None] = mapped_column(String(255), index=True)
    owner_crm_id: Mapped[str | None] = mapped_column(String(18))
    owner_name: Mapped[str | None] = mapped_column(String(255))
    owner_email: Mapped[str | None] = mapped_column(String(255))
    segment: Mapped[str | None] = mapped_column(String(40))
    tier: Mapped[str | None] = mapped_column(String(40))
    lifecycle_stage: Mapped[str | None] = mapped_column(String(40))
    arr: Mapped[float | None] = mapped_column(Float)
    renewal_date: Mapped[dt.date | None] = mapped_column(Date, index=True)  # the review window
    parent_crm_id: Mapped[str | None] = mapped_column(String(18), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"), index=True)
    customer_since: Mapped[dt.date | None] = mapped_column(Date)
    is_deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    source_modstamp: Mapped[dt.datetime | None]
    attributes: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # moved only by a change of content (model/upsert.py): "changed since" readers index it
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow, index=True)
    # moved only by a change of what identity matching reads (model/match_fields.py)
    match_changed_at: Mapped[dt.datetime | None] = mapped_column(
        default=utcnow, onupdate=utcnow, index=True
    )

    identities: Mapped[list[ExternalIdentity]] = relationship(back_populates="account")


class ExternalIdentity(Base):
    """One external record (a helpdesk organization, a usage workspace, ...) and its account.

    source: the configured source it came from; kind: what it is, whatever the source
    (organization | workspace), which is what identity resolution and linking go by.
    status: linked | ambiguous | unmatched | rejected. method: external_id | field | mapping |
    domain | name | manual. Unmatched and ambiguous rows are kept for review, never dropped.
    """

    __tablename__ = "external_identities"
    __table_args__ = (
        UniqueConstraint("source", "external_id"),
        # linking looks identities up by kind, whatever their source (model.identity)
        Index("ix_external_identities_kind_external_id", "kind", "external_id"),
        {"info": {STAMP_ON_CHANGE: {MATCH_CHANGED_AT: IDENTITY_MATCH_FIELDS}}},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(20))
    external_id: Mapped[str] = mapped_column(String(64))
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"), index=True)
    name: Mapped[str | None] = mapped_column(String(255))
    domains: Mapped[list[Any]] = mapped_column(default=list)
    hint_crm_id: Mapped[str | None] = mapped_column(String(18))
    status: Mapped[str] = mapped_column(String(20), default="unmatched")
    method: Mapped[str | None] = mapped_column(String(20))
    confidence: Mapped[float | None] = mapped_column(Float)
    candidates: Mapped[list[Any]] = mapped_column(default=list)
    manual: Mapped[bool] = mapped_column(Boolean, default=False)
    attributes: Mapped[dict[str, Any]] = mapped_column(default=dict)
    is_deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow, index=True)
    # moved only by a change of what matching reads, not of `attributes` (model/match_fields.py)
    match_changed_at: Mapped[dt.datetime | None] = mapped_column(
        default=utcnow, onupdate=utcnow, index=True
    )

    account: Mapped[Account | None] = relationship(back_populates="identities")


class Contact(Base):
    """A crm contact; `source` is the crm source it came from (its ids are unique per source)."""

    __tablename__ = "contacts"
    __table_args__ = (UniqueConstraint("source", "crm_id", name="uq_contacts_source_crm_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(20))
    crm_id: Mapped[str] = mapped_column(String(18))
    account_crm_id: Mapped[str | None] = mapped_column(String(18), index=True)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"), index=True)
    name: Mapped[str | None] = mapped_column(String(255))
    email: Mapped[str | None] = mapped_column(String(255))
    title: Mapped[str | None] = mapped_column(String(255))
    role: Mapped[str | None] = mapped_column(String(80))
    is_champion: Mapped[bool] = mapped_column(Boolean, default=False)
    is_executive: Mapped[bool] = mapped_column(Boolean, default=False)
    is_deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    source_created_at: Mapped[dt.datetime | None]
    source_modstamp: Mapped[dt.datetime | None]
    # when pulsehub last stored a change to this row (model/upsert.py moves it only with a
    # change of content): the inputs digest re-reads accounts with rows changed since its mark
    updated_at: Mapped[dt.datetime | None] = mapped_column(
        default=utcnow, onupdate=utcnow, index=True
    )


class Opportunity(Base):
    """A crm opportunity; renewals are `type == 'Renewal'`. Ids are unique per `source`."""

    __tablename__ = "opportunities"
    __table_args__ = (UniqueConstraint("source", "crm_id", name="uq_opportunities_source_crm_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(20))
    crm_id: Mapped[str] = mapped_column(String(18))
    account_crm_id: Mapped[str | None] = mapped_column(String(18), index=True)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"), index=True)
    name: Mapped[str | None] = mapped_column(String(255))
    type: Mapped[str | None] = mapped_column(String(80))
    stage: Mapped[str | None] = mapped_column(String(80))
    amount: Mapped[float | None] = mapped_column(Float)
    close_date: Mapped[dt.date | None] = mapped_column(Date)
    is_closed: Mapped[bool] = mapped_column(Boolean, default=False)
    is_won: Mapped[bool] = mapped_column(Boolean, default=False)
    is_deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    source_modstamp: Mapped[dt.datetime | None]
    term_months: Mapped[int | None] = mapped_column(Integer)  # contract term (NULL: 12)
    # when pulsehub last stored a change to this row (model/upsert.py moves it only with a
    # change of content): the inputs digest re-reads accounts with rows changed since its mark
    updated_at: Mapped[dt.datetime | None] = mapped_column(
        default=utcnow, onupdate=utcnow, index=True
    )


class Ticket(Base):
    """A helpdesk ticket with its metrics and satisfaction folded in.

    `source` is the helpdesk source (instance) it came from: ticket and organization ids are
    unique per source only (two instances both have a ticket 1 and an organization 1)."""

    __tablename__ = "tickets"
    # covers the scoring aggregates (read per account and window, 13 times in a first
    # sync's replay): index-only reads were 4x faster than row lookups at 10,000 accounts
    __table_args__ = (
        Index(
            "ix_tickets_account_signals", "account_id", "created_at", "status", "solved_at",
            "priority", "csat", "csat_at", "first_reply_minutes", "full_resolution_minutes",
            "reopens",
        ),
        UniqueConstraint("source", "helpdesk_id", name="uq_tickets_source_helpdesk_id"),
    )  # fmt: skip

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(20))
    # an escalation's engineering ticket is looked up by its id (escalation.lifecycle.taken_up)
    helpdesk_id: Mapped[int] = mapped_column(BigInteger, index=True)
    helpdesk_org_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    subject: Mapped[str | None] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(20))
    priority: Mapped[str | None] = mapped_column(String(20))
    type: Mapped[str | None] = mapped_column(String(20))
    tags: Mapped[list[Any]] = mapped_column(default=list)
    requester_id: Mapped[int | None] = mapped_column(BigInteger)
    external_id: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]
    solved_at: Mapped[dt.datetime | None]
    first_reply_minutes: Mapped[float | None] = mapped_column(Float)
    full_resolution_minutes: Mapped[float | None] = mapped_column(Float)
    reopens: Mapped[int | None] = mapped_column(Integer)
    replies: Mapped[int | None] = mapped_column(Integer)
    csat: Mapped[str | None] = mapped_column(String(20))
    csat_at: Mapped[dt.datetime | None]
    # when pulsehub last stored a change to this row (`updated_at` is the helpdesk's clock):
    # the write-back plan re-plans tickets changed since its last plan (sync/plan_scope.py)
    synced_at: Mapped[dt.datetime | None] = mapped_column(
        default=utcnow, onupdate=utcnow, index=True
    )
    # subject and tags less band tags, fingerprinted (model/own_tags.py `ticket_content_key`):
    # set by the pull's row mapping and, for ORM writes, by `_keep_keys` below; NULL on
    # rows stored before it existed until they are pulled again
    content_key: Mapped[int | None] = mapped_column(Integer)
    # status, priority, type and rating, fingerprinted (model/own_tags.py `ticket_state_key`),
    # kept like `content_key`: with it, the inputs digest's stand-in for `updated_at`
    state_key: Mapped[int | None] = mapped_column(Integer)


@event.listens_for(Ticket, "before_insert")
@event.listens_for(Ticket, "before_update")
def _keep_keys(_mapper: Any, _connection: Any, target: Ticket) -> None:
    target.content_key = ticket_content_key(target.subject, target.tags)
    target.state_key = ticket_state_key(target.status, target.priority, target.type, target.csat)


class UsageDaily(Base):
    """One workspace's product usage on one day (the usage source's grain)."""

    __tablename__ = "usage_daily"
    __table_args__ = (
        UniqueConstraint("workspace_id", "day"),
        Index(  # covers the scoring aggregates, like the tickets' index
            "ix_usage_account_signals",
            "account_id",
            "day",
            "active_users",
            "logins",
            "features_used",
            "seats_purchased",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[str] = mapped_column(String(64))
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    day: Mapped[dt.date] = mapped_column(Date, index=True)  # the feed's newest day, every run
    active_users: Mapped[int] = mapped_column(Integer, default=0)
    logins: Mapped[int] = mapped_column(Integer, default=0)
    feature_events: Mapped[int] = mapped_column(Integer, default=0)
    features_used: Mapped[int] = mapped_column(Integer, default=0)
    seats_used: Mapped[int | None] = mapped_column(Integer)
    seats_purchased: Mapped[int | None] = mapped_column(Integer)
    # when pulsehub last stored a change to this row (model/upsert.py moves it only with a
    # change of content): the inputs digest re-reads accounts with rows changed since its mark
    updated_at: Mapped[dt.datetime | None] = mapped_column(
        default=utcnow, onupdate=utcnow, index=True
    )
