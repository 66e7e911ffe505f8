"""The unified account model: SQLAlchemy 2.0 typed ORM tables.

Helpdesk ids are 64-bit (real ones exceed 2**31), hence BigInteger wherever they are stored.

Vendor-neutral: columns say what a thing is for a CS team, never which API it came from,
except for the external ids that identity resolution links back to a canonical `Account`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator


def utcnow() -> dt.datetime:
    """Timezone-aware now, the only clock the model uses."""
    return dt.datetime.now(dt.UTC)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Stores aware datetimes as UTC and always returns them aware (SQLite drops tzinfo)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: pulsehub stores aware UTC datetimes only")
        return value.astimezone(dt.UTC)

    def process_result_value(
        self, value: dt.datetime | None, dialect: Dialect
    ) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    type_annotation_map = {
        dict[str, Any]: JSON,
        list[Any]: JSON,
        dt.datetime: UTCDateTime(),
    }


class Account(Base):
    """The canonical customer account; the crm is its system of record."""

    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    crm_id: Mapped[str | None] = mapped_column(String(18), unique=True)
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
    renewal_date: Mapped[dt.date | None] = mapped_column(Date)
    parent_crm_id: Mapped[str | None] = mapped_column(String(18), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"), index=True)
    customer_since: Mapped[dt.date | None] = mapped_column(Date)
    is_deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    source_modstamp: Mapped[dt.datetime | None]
    attributes: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)

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
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    account: Mapped[Account | None] = relationship(back_populates="identities")


class Contact(Base):
    __tablename__ = "contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    crm_id: Mapped[str] = mapped_column(String(18), unique=True)
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


class Opportunity(Base):
    """A crm opportunity; renewals are `type == 'Renewal'`."""

    __tablename__ = "opportunities"

    id: Mapped[int] = mapped_column(primary_key=True)
    crm_id: Mapped[str] = mapped_column(String(18), unique=True)
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


class Ticket(Base):
    """A helpdesk ticket with its metrics and satisfaction folded in."""

    __tablename__ = "tickets"
    # covers the scoring aggregates (read per account and window, 13 times in a first
    # sync's replay): index-only reads were 4x faster than row lookups at 10,000 accounts
    __table_args__ = (
        Index(
            "ix_tickets_account_signals", "account_id", "created_at", "status", "solved_at",
            "priority", "csat", "csat_at", "first_reply_minutes", "full_resolution_minutes",
            "reopens",
        ),
    )  # fmt: skip

    id: Mapped[int] = mapped_column(primary_key=True)
    helpdesk_id: Mapped[int] = mapped_column(BigInteger, unique=True)
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
    day: Mapped[dt.date] = mapped_column(Date)
    active_users: Mapped[int] = mapped_column(Integer, default=0)
    logins: Mapped[int] = mapped_column(Integer, default=0)
    feature_events: Mapped[int] = mapped_column(Integer, default=0)
    features_used: Mapped[int] = mapped_column(Integer, default=0)
    seats_used: Mapped[int | None] = mapped_column(Integer)
    seats_purchased: Mapped[int | None] = mapped_column(Integer)


class HealthSnapshot(Base):
    """A score as computed on one day; history drives trend, audit and lead time."""

    __tablename__ = "health_snapshots"
    __table_args__ = (UniqueConstraint("account_id", "as_of"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    as_of: Mapped[dt.date] = mapped_column(Date, index=True)
    score: Mapped[float | None] = mapped_column(Float)
    band: Mapped[str] = mapped_column(String(20))
    profile: Mapped[str | None] = mapped_column(String(40))
    coverage: Mapped[float | None] = mapped_column(Float)
    trend_28d: Mapped[float | None] = mapped_column(Float)
    sharp_drop: Mapped[bool] = mapped_column(Boolean, default=False)
    reasons: Mapped[list[Any]] = mapped_column(default=list)
    signals: Mapped[dict[str, Any]] = mapped_column(default=dict)
    contradictions: Mapped[list[Any]] = mapped_column(default=list)
    renewal_risk: Mapped[float | None] = mapped_column(Float)
    risk_level: Mapped[str | None] = mapped_column(String(20))
    risk_drivers: Mapped[list[Any]] = mapped_column(default=list)
    computed_score: Mapped[float | None] = mapped_column(Float)
    computed_band: Mapped[str | None] = mapped_column(String(20))
    override_id: Mapped[int | None] = mapped_column(ForeignKey("score_overrides.id"))
    computed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class ScoreOverride(Base):
    """A CSM's override of an account's band/score, with a reason and an expiry."""

    __tablename__ = "score_overrides"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    band: Mapped[str | None] = mapped_column(String(20))
    score: Mapped[float | None] = mapped_column(Float)
    reason: Mapped[str] = mapped_column(Text)
    author: Mapped[str | None] = mapped_column(String(255))
    expires_at: Mapped[dt.datetime]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)


class RiskModelVersion(Base):
    """A fitted renewal-risk model, one row per version; scoring uses the newest active one."""

    __tablename__ = "risk_models"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    kind: Mapped[str] = mapped_column(String(40))
    horizon_days: Mapped[int] = mapped_column(Integer)
    trained_on: Mapped[str] = mapped_column(String(255))
    samples: Mapped[int] = mapped_column(Integer)
    outcomes: Mapped[int] = mapped_column(Integer)  # labelled renewal decisions it learned from
    params: Mapped[dict[str, Any]] = mapped_column()
    metrics: Mapped[dict[str, Any]] = mapped_column()
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Escalation(Base):
    """One escalation per dedup key (account + rule + reason): open -> acknowledged -> resolved."""

    __tablename__ = "escalations"

    id: Mapped[int] = mapped_column(primary_key=True)
    dedup_key: Mapped[str] = mapped_column(String(255), unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    rule: Mapped[str] = mapped_column(String(80))
    severity: Mapped[str] = mapped_column(String(10))
    state: Mapped[str] = mapped_column(String(20), default="open")
    title: Mapped[str] = mapped_column(String(500))
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    helpdesk_ticket_id: Mapped[int | None] = mapped_column(BigInteger)
    crm_task_id: Mapped[str | None] = mapped_column(String(18))
    opened_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    acknowledged_at: Mapped[dt.datetime | None]
    resolved_at: Mapped[dt.datetime | None]
    resolution_note: Mapped[str | None] = mapped_column(Text)
    cooldown_until: Mapped[dt.datetime | None]
    review_due_at: Mapped[dt.datetime | None]


class SyncCursor(Base):
    """Where each source stream got to; saved in the same transaction as its data."""

    __tablename__ = "sync_cursors"

    stream: Mapped[str] = mapped_column(String(80), primary_key=True)
    value: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class SourceMetadata(Base):
    """What a source said about itself (e.g. its Account fields), kept with when it was asked."""

    __tablename__ = "source_metadata"

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    value: Mapped[dict[str, Any]] = mapped_column(default=dict)
    fetched_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class SyncRun(Base):
    __tablename__ = "sync_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20), default="running")
    dry_run: Mapped[bool] = mapped_column(Boolean, default=False)
    started_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[dt.datetime | None]
    stats: Mapped[dict[str, Any]] = mapped_column(default=dict)
    error: Mapped[str | None] = mapped_column(Text)


class OutboxItem(Base):
    """One pending write to an external system.

    kind: crm_account_fields | crm_task | helpdesk_org_fields | helpdesk_ticket_tags |
    helpdesk_ticket | helpdesk_comment | helpdesk_escalation_tags.
    status: pending | done | dead | superseded. `key` is unique per logical write: the
    idempotency key for creations (derived from an escalation's dedup key), a random id for field writes.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_status_system", "status", "system"),
        # at most one pending write per target: planners merge into it instead of queueing twice
        Index(
            "uq_outbox_pending_target",
            "kind",
            "target_id",
            unique=True,
            sqlite_where=text("status = 'pending'"),
            postgresql_where=text("status = 'pending'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(255), unique=True)
    system: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(40))
    target_id: Mapped[str | None] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    result: Mapped[dict[str, Any]] = mapped_column(default=dict)
    next_attempt_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    done_at: Mapped[dt.datetime | None]


class WrittenState(Base):
    """The value pulsehub last wrote to one field/tag of one external record."""

    __tablename__ = "written_state"

    system: Mapped[str] = mapped_column(String(20), primary_key=True)
    target_kind: Mapped[str] = mapped_column(String(40), primary_key=True)
    target_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    field: Mapped[str] = mapped_column(String(120), primary_key=True)
    value: Mapped[str | None] = mapped_column(Text)
    written_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class QuarantinedRecord(Base):
    """A source record that failed validation: kept with its reason, never silently dropped."""

    __tablename__ = "quarantine"

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(20))
    stream: Mapped[str] = mapped_column(String(80))
    external_id: Mapped[str | None] = mapped_column(String(255))
    reason: Mapped[str] = mapped_column(Text)
    payload: Mapped[str | None] = mapped_column(Text)
    run_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class WebhookReceipt(Base):
    """A verified webhook delivery, remembered so a replayed signature is refused."""

    __tablename__ = "webhook_receipts"

    signature: Mapped[str] = mapped_column(String(128), primary_key=True)
    received_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    account_id: Mapped[int | None] = mapped_column(Integer)
