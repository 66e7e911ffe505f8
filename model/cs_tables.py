"""What customer-success operations keep: onboarding phase history, the lifecycle stage last
seen per account (to notice a handoff), handoffs with their checklist result, and CSM cover."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from model.orm import Base, utcnow


class OnboardingPhase(Base):
    """One account's stay in one onboarding phase; the open row (no `exited_on`) is current.

    `entered_on` of a phase first seen mid-way is the best date known (the contract start for
    the first phase, go-live or first usage for the next), else the day it was first seen.
    `stalled_on`: the day a stalled-phase task was queued (once per stay)."""

    __tablename__ = "onboarding_phases"
    __table_args__ = (UniqueConstraint("account_id", "phase", "entered_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    phase: Mapped[str] = mapped_column(String(40))
    position: Mapped[int] = mapped_column(Integer)
    entered_on: Mapped[dt.date] = mapped_column(Date)
    exited_on: Mapped[dt.date | None] = mapped_column(Date)
    stalled_on: Mapped[dt.date | None] = mapped_column(Date)


class AccountStage(Base):
    """The lifecycle stage an account had when operations last looked (a change is a move), and
    the day operations first saw it in that stage (written only when the stage moves)."""

    __tablename__ = "account_stages"

    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), primary_key=True)
    stage: Mapped[str | None] = mapped_column(String(40))
    seen_on: Mapped[dt.date] = mapped_column(Date)


class Handoff(Base):
    """An account's move from implementation to support, with its checklist result.

    `missing`: the checklist items not documented at handoff; `owner_crm_id`: the
    implementation owner the completion task goes to."""

    __tablename__ = "handoffs"
    __table_args__ = (UniqueConstraint("account_id", "handed_off_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    handed_off_on: Mapped[dt.date] = mapped_column(Date)
    from_stage: Mapped[str | None] = mapped_column(String(40))
    to_stage: Mapped[str | None] = mapped_column(String(40))
    complete: Mapped[bool] = mapped_column(Boolean)
    checked: Mapped[list[Any]] = mapped_column(default=list)
    missing: Mapped[list[Any]] = mapped_column(default=list)
    owner_crm_id: Mapped[str | None] = mapped_column(String(18))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class CsmCover(Base):
    """A covering CSM for an owner over a date range (both days included)."""

    __tablename__ = "csm_covers"
    __table_args__ = (Index("ix_csm_covers_owner_dates", "owner_crm_id", "starts_on", "ends_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_crm_id: Mapped[str] = mapped_column(String(18))
    cover_crm_id: Mapped[str] = mapped_column(String(18))
    starts_on: Mapped[dt.date] = mapped_column(Date)
    ends_on: Mapped[dt.date] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
