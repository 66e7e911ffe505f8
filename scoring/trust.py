"""The score's trust audit, stored: weekly drift (PSI) and CSM override rates.

Both read weeks of snapshots (`scoring.drift.weekly_drift` holds two days' numbers at a time;
at 50,000 accounts each day is ~17 MiB and a few seconds), too slow for a page view. So the
nightly reconcile, `pulsehub score audit` and the demo compute it and keep it in
`score_audits`; the dashboard's audit page shows the newest row and says when it was made.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from model.tables import HealthSnapshot, ScoreAudit
from scoring.drift import weekly_drift
from scoring.override_audit import override_report

WEEKS = 8


def trust_report(
    session: Session, *, now: datetime, horizon_days: int, weeks: int = WEEKS
) -> dict[str, Any]:
    return {
        "weeks": weeks,
        "drift": weekly_drift(session, weeks),
        "overrides": override_report(session, now=now, weeks=weeks, horizon_days=horizon_days),
    }


def store_trust_audit(
    session: Session, *, now: datetime, horizon_days: int, source: str, weeks: int = WEEKS
) -> ScoreAudit:
    """Compute the trust audit and add it as the newest `score_audits` row (flushed)."""
    row = ScoreAudit(
        created_at=now,
        as_of=session.scalar(select(func.max(HealthSnapshot.as_of))),
        source=source,
        report=trust_report(session, now=now, horizon_days=horizon_days, weeks=weeks),
    )
    session.add(row)
    session.flush()
    return row


def latest_trust_audit(session: Session) -> ScoreAudit | None:
    return session.scalars(select(ScoreAudit).order_by(ScoreAudit.id.desc()).limit(1)).first()
