"""What syncing keeps about itself: cursors, runs, the write-back outbox, quarantine, receipts."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Boolean, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from model.orm import Base, utcnow


class SyncCursor(Base):
    """Where each source stream got to; saved in the same transaction as its data."""

    __tablename__ = "sync_cursors"

    stream: Mapped[str] = mapped_column(String(80), primary_key=True)
    value: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ReconcileSeen(Base):
    """The natural keys a complete (reconcile) read of a stream has returned so far, staged
    page by page in each page's transaction; what the table holds and this does not was
    deleted at the source. Emptied when the read ends (and when a new one starts, after a
    crash), so memory never holds a stream's keys however large it is."""

    __tablename__ = "reconcile_seen"

    stream: Mapped[str] = mapped_column(String(80), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)


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
        # (the target is the record `target_id` in source `system`: ids repeat across sources)
        Index(
            "uq_outbox_pending_target",
            "system",
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
    # a planned field/tag write's account (a plan of some accounts supersedes only theirs)
    account_id: Mapped[int | None] = mapped_column(Integer, index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    result: Mapped[dict[str, Any]] = mapped_column(default=dict)
    next_attempt_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    done_at: Mapped[dt.datetime | None] = mapped_column(index=True)  # done or dead-lettered


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
