"""The figures `/metrics` exposes, read from the model at scrape time: runs, rows, bands, queues."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from model.tables import (
    Account,
    Escalation,
    ExternalIdentity,
    HealthSnapshot,
    OutboxItem,
    QuarantinedRecord,
    SyncRun,
    Ticket,
    UsageDaily,
)
from reporting.common import OPEN_ESCALATION_STATES
from reporting.operations import REVIEW_STATES

COUNTED_TABLES: dict[str, Any] = {
    "accounts": Account,
    "tickets": Ticket,
    "usage_daily": UsageDaily,
    "health_snapshots": HealthSnapshot,
}


def runs_by_kind_and_status(session: Session) -> list[tuple[str, str, int]]:
    """(kind, status, runs) over every recorded run."""
    rows = session.execute(
        select(SyncRun.kind, SyncRun.status, func.count()).group_by(SyncRun.kind, SyncRun.status)
    )
    return [(kind, status, n) for kind, status, n in rows]


def newest_start_by_kind(session: Session) -> list[tuple[str, dt.datetime]]:
    """(kind, start of its newest run)."""
    rows = session.execute(
        select(SyncRun.kind, func.max(SyncRun.started_at)).group_by(SyncRun.kind)
    )
    return [(kind, at) for kind, at in rows if at]


def newest_success_by_kind(session: Session) -> list[tuple[str, dt.datetime]]:
    """(kind, end of its newest run that succeeded)."""
    rows = session.execute(
        select(SyncRun.kind, func.max(SyncRun.finished_at))
        .where(SyncRun.status == "succeeded")
        .group_by(SyncRun.kind)
    )
    return [(kind, at) for kind, at in rows if at]


def table_rows(session: Session) -> list[tuple[str, int]]:
    """(table, rows) for the unified model's main tables."""
    return [
        (name, session.scalar(select(func.count()).select_from(table)) or 0)
        for name, table in COUNTED_TABLES.items()
    ]


def bands_on_newest_day(session: Session) -> list[tuple[str, int]]:
    """(band, accounts) among the snapshots of the newest scored day."""
    newest_day = session.scalar(select(func.max(HealthSnapshot.as_of)))
    if not newest_day:
        return []
    rows = session.execute(
        select(HealthSnapshot.band, func.count())
        .where(HealthSnapshot.as_of == newest_day)
        .group_by(HealthSnapshot.band)
    )
    return [(band, n) for band, n in rows]


def outbox_by_system_kind_status(session: Session) -> list[tuple[str, str, str, int]]:
    """(system, kind, status, items) over the whole outbox."""
    rows = session.execute(
        select(OutboxItem.system, OutboxItem.kind, OutboxItem.status, func.count()).group_by(
            OutboxItem.system, OutboxItem.kind, OutboxItem.status
        )
    )
    return [(system, kind, status, n) for system, kind, status, n in rows]


def quarantine_size(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(QuarantinedRecord)) or 0)


def identity_review_size(session: Session) -> int:
    """External records waiting for an identity decision."""
    review = (
        select(func.count())
        .select_from(ExternalIdentity)
        .where(ExternalIdentity.status.in_(REVIEW_STATES))
    )
    return int(session.scalar(review) or 0)


def open_escalations_by_severity(session: Session) -> list[tuple[str, int]]:
    rows = session.execute(
        select(Escalation.severity, func.count())
        .where(Escalation.state.in_(OPEN_ESCALATION_STATES))
        .group_by(Escalation.severity)
    )
    return [(severity, n) for severity, n in rows]
