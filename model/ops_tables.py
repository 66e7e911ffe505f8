"""What CS operations keep: erased keys (the suppression list), data-request audit lines,
the root-cause-analysis (RCA) record of each solved engineering escalation, and the product's
users (for access reviews)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import BigInteger, Boolean, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from model.orm import Base, utcnow


class ErasedKey(Base):
    """One external key of an erased account: a pull that brings a record with this key (or
    one that belongs to it) back drops it, until the erasure is lifted (relink)."""

    __tablename__ = "erased_keys"
    __table_args__ = (UniqueConstraint("entity", "value"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    entity: Mapped[str] = mapped_column(String(40))  # a model entity (connectors.base.ENTITIES)
    value: Mapped[str] = mapped_column(String(255))
    request_id: Mapped[int] = mapped_column(ForeignKey("data_requests.id"), index=True)
    erased_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class DataRequest(Base):
    """The audit line of one data request: who, when, what, how many rows. No personal data:
    the account is named by its pulsehub id only, the counts are per table."""

    __tablename__ = "data_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # export | delete | relink
    account_id: Mapped[int | None]
    actor: Mapped[str] = mapped_column(String(255))
    counts: Mapped[dict[str, Any]] = mapped_column(default=dict)
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class RcaReview(Base):
    """The RCA owed for one solved engineering escalation: due `due_at` (solved + N hours),
    done when the ticket carries the done tag or an operator marks it."""

    __tablename__ = "rca_reviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    escalation_id: Mapped[int] = mapped_column(ForeignKey("escalations.id"), unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    helpdesk_ticket_id: Mapped[int | None] = mapped_column(BigInteger)
    solved_at: Mapped[dt.datetime]
    due_at: Mapped[dt.datetime]
    done_at: Mapped[dt.datetime | None]
    done_by: Mapped[str | None] = mapped_column(String(255))  # "tag:<tag>" or an operator
    reminded_at: Mapped[dt.datetime | None]


class AppUser(Base):
    """A person with access to the product (one usage-source user), for access reviews.

    The account is the one its workspace is linked to (resolved when read, through
    `external_identities`), so a workspace re-linked later needs no rewrite here."""

    __tablename__ = "app_users"
    __table_args__ = (UniqueConstraint("source", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(20))
    external_id: Mapped[str] = mapped_column(String(64))
    workspace_id: Mapped[str] = mapped_column(String(64), index=True)
    email: Mapped[str | None] = mapped_column(String(255))
    name: Mapped[str | None] = mapped_column(String(255))
    role: Mapped[str | None] = mapped_column(String(40))
    status: Mapped[str | None] = mapped_column(String(40))
    last_login_at: Mapped[dt.datetime | None]
    source_created_at: Mapped[dt.datetime | None]
    source_updated_at: Mapped[dt.datetime | None]
    is_deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    # when pulsehub last stored a change to this row (`source_updated_at` is the source's
    # clock): access reviews look again at accounts whose users changed since their mark
    synced_at: Mapped[dt.datetime | None] = mapped_column(
        default=utcnow, onupdate=utcnow, index=True
    )
