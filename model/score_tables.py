"""What scoring and escalation keep: daily health snapshots, overrides, risk models, escalations."""

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
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from model.orm import Base, utcnow


class HealthSnapshot(Base):
    """A score as computed on one day; history drives trend, audit and lead time."""

    __tablename__ = "health_snapshots"
    __table_args__ = (
        UniqueConstraint("account_id", "as_of"),
        # the day's snapshots re-scored since a mark (operations stage, write-back plan)
        Index("ix_health_snapshots_as_of_computed_at", "as_of", "computed_at"),
    )

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
    # digest of everything the score was computed from (scoring/changes.py): a later run of
    # the day re-scores only accounts whose digest differs; NULL = unknown, re-score
    inputs_digest: Mapped[str | None] = mapped_column(String(64))


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
    # moved by a revocation or an edit: the inputs digest re-reads the account's override
    updated_at: Mapped[dt.datetime | None] = mapped_column(
        default=utcnow, onupdate=utcnow, index=True
    )


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


class ScoreAudit(Base):
    """A stored audit of the score's trust: weekly drift (PSI) and CSM override rates, computed
    by the nightly reconcile and `pulsehub score audit`; the dashboard's audit page shows the
    newest (scoring/trust.py)."""

    __tablename__ = "score_audits"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    as_of: Mapped[dt.date | None] = mapped_column(Date)  # the newest snapshot day it read
    source: Mapped[str] = mapped_column(String(40))  # "reconcile", "score audit", "demo"
    report: Mapped[dict[str, Any]] = mapped_column()


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
    # the helpdesk source (instance) the engineering ticket was created in
    helpdesk_source: Mapped[str | None] = mapped_column(String(20))
    crm_task_id: Mapped[str | None] = mapped_column(String(18))
    opened_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow, index=True)
    acknowledged_at: Mapped[dt.datetime | None]
    resolved_at: Mapped[dt.datetime | None]
    resolution_note: Mapped[str | None] = mapped_column(Text)
    cooldown_until: Mapped[dt.datetime | None]
    review_due_at: Mapped[dt.datetime | None]


class EscalationEvaluation(Base):
    """When an account's escalation rules were last evaluated, and from what: its inputs
    digest then (scoring/changes.py; NULL: unknown, re-evaluated next run) and what the
    repeated-issue rule read of the book's topic mix (escalation/book_norms.py). Written in
    the escalation step's transaction, so it never runs ahead of the escalations it explains."""

    __tablename__ = "escalation_evaluations"

    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), primary_key=True)
    inputs_digest: Mapped[str | None] = mapped_column(String(64))
    book_norms: Mapped[list[Any]] = mapped_column(default=list)
    evaluated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class BookMixDay(Base):
    """One day's part of the repeated-issue rule's book topic mix (escalation/book_days.py):
    the signature counts of every account's tickets created that day under one set of the
    rule's tag settings, and the digest of the tickets they were counted from. Derived and
    re-countable at any time: kept so an hourly run re-counts only the days that changed."""

    __tablename__ = "book_mix_days"

    settings: Mapped[str] = mapped_column(String(64), primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    digest: Mapped[str] = mapped_column(String(100))
    total: Mapped[int] = mapped_column(Integer)
    counts: Mapped[dict[str, Any]] = mapped_column(default=dict)
    computed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
