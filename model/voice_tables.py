"""The voice of the customer: survey responses from any source, and theme alerts decided on them.

A survey response belongs to the source it came from (`source`, `external_id`) and reaches an
account through what the source named: a crm account id, a usage workspace or a helpdesk
organization (`account_id` is filled by `sync.voice.link_responses`). Helpdesk satisfaction
ratings stay on their tickets (`tickets.csat`) and are read from there, never copied here.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from model.orm import Base, utcnow


class SurveyResponse(Base):
    """One answer to an NPS (0-10), CES (1-7) or CSAT (1-5) question.

    `comment` is what the data-minimization setting let through (kept, redacted or none).
    """

    __tablename__ = "survey_responses"
    __table_args__ = (
        UniqueConstraint("source", "external_id"),
        Index("ix_survey_responses_account_kind", "account_id", "kind", "responded_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(20))
    external_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(10))
    score: Mapped[float] = mapped_column(Float)
    comment: Mapped[str | None] = mapped_column(Text)
    responded_at: Mapped[dt.datetime] = mapped_column(index=True)
    respondent: Mapped[str | None] = mapped_column(String(255))
    crm_account_id: Mapped[str | None] = mapped_column(String(18))
    workspace_id: Mapped[str | None] = mapped_column(String(64))
    organization_id: Mapped[str | None] = mapped_column(String(64))
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)  # the source's clock
    # when pulsehub last stored a change to this row (a pull's upsert that changed content, a
    # link): the voice stage re-reads only rows changed since its last run (sync/voice.py)
    synced_at: Mapped[dt.datetime | None] = mapped_column(
        default=utcnow, onupdate=utcnow, index=True
    )


class SurveyResponseTheme(Base):
    """A theme a survey comment mentions, as matched under the voice configuration the
    `voice:state` cursor names (reporting/voice_matches.py); gone with its response."""

    __tablename__ = "survey_response_themes"

    response_id: Mapped[int] = mapped_column(
        ForeignKey("survey_responses.id", ondelete="CASCADE"), primary_key=True
    )
    theme: Mapped[str] = mapped_column(String(80), primary_key=True)


class TicketTheme(Base):
    """A theme a ticket's subject or customer tags mention (as `SurveyResponseTheme`)."""

    __tablename__ = "ticket_themes"

    ticket_id: Mapped[int] = mapped_column(
        ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True
    )
    theme: Mapped[str] = mapped_column(String(80), primary_key=True)


class VoiceAlert(Base):
    """A theme that deteriorated past its threshold in one period, and the owner task it opened.

    Unique per (theme, period): the decision is taken once and commits with the outbox
    creation of its task (`outbox_key`), so a re-run finds it and creates nothing.
    """

    __tablename__ = "voice_alerts"
    __table_args__ = (UniqueConstraint("theme", "period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    theme: Mapped[str] = mapped_column(String(80))
    period: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text)
    owner: Mapped[str | None] = mapped_column(String(255))
    accounts: Mapped[int] = mapped_column(Integer, default=0)
    affected_arr: Mapped[float] = mapped_column(Float, default=0.0)
    impact: Mapped[float] = mapped_column(Float, default=0.0)
    outbox_key: Mapped[str | None] = mapped_column(String(255))
    crm_task_id: Mapped[str | None] = mapped_column(String(64))  # once its push created it
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
