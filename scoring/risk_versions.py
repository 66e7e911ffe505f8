"""The active renewal-risk model, read from the database without loading scikit-learn.

Scoring applies a fitted model from its stored parameters (`scoring.risk_model`); only fitting
(`scoring.risk_store`, `scoring.fit`) needs scikit-learn. Kept apart so a run that re-scores a
handful of accounts does not pay its import (about 1 s and 100 MiB) to read a few numbers.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from model.tables import RiskModelVersion
from scoring.risk_model import FittedRisk


def active_model(session: Session) -> FittedRisk | None:
    """The newest active fitted model, or None (then the scorecard prior is used)."""
    row = session.scalars(
        select(RiskModelVersion).where(RiskModelVersion.active.is_(True))
        .order_by(RiskModelVersion.id.desc()).limit(1)
    ).first()  # fmt: skip
    return None if row is None else FittedRisk.from_params(row.params, version=row.id)
