"""Backtest samples without leakage: one per account, features up to a snapshot, outcome after it.

From the database, every account is judged the same way, on a renewal decision: its first
lost renewal (churned) or else its latest won renewal (retained), using its last scored
snapshot at least `min_lead_days` and at most `horizon_days` before that decision. Churned and
retained accounts are thus seen at the same distance from their renewal (no sampling bias on
renewal proximity). Snapshots are judged on their computed score and band, not on CSM
overrides. From a CSV: one row per account, scored now with the scorecard.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import groupby
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from model.tables import Account, HealthSnapshot, Opportunity
from scoring.store import SNAPSHOT_STREAM_ROWS

# a renewal decided for an account: closed, not deleted, with its close date
DECIDED_RENEWAL = (
    Opportunity.type == "Renewal",
    Opportunity.is_closed.is_(True),
    Opportunity.is_deleted.is_(False),
    Opportunity.account_id.is_not(None),
    Opportunity.close_date.is_not(None),
)
# renewal decisions per account, oldest first: (close date, lost?, amount)
Outcomes = Mapping[int, Sequence[tuple[date, bool, Any]]]


@dataclass(slots=True)
class Sample:
    account_id: int
    churned: bool
    score: float | None
    band: str
    as_of: date | None = None
    arr: float | None = None
    trend_28d: float | None = None
    signals: dict[str, Any] = field(default_factory=dict)
    stored_risk: float | None = None
    lead_days: float | None = None  # churned: days it had been red without a break before churn
    decided_on: date | None = None  # the renewal decision the sample is judged on


def renewal_outcomes(
    session: Session, accounts: Select[Any] | None = None
) -> dict[int, list[tuple[date, bool, float | None]]]:
    """Closed renewals per account (of the `accounts` query's ids, or all), oldest first:
    (close date, lost?, amount). Streamed: at 50,000 accounts the dict is ~16 MiB, and the
    whole result buffered first doubled that."""
    query = select(
        Opportunity.account_id, Opportunity.close_date, Opportunity.is_won, Opportunity.amount
    ).where(*DECIDED_RENEWAL)
    if accounts is not None:
        query = query.where(Opportunity.account_id.in_(accounts))
    rows = session.execute(
        query.order_by(Opportunity.account_id, Opportunity.close_date).execution_options(
            yield_per=SNAPSHOT_STREAM_ROWS
        )
    )
    out: dict[int, list[tuple[date, bool, float | None]]] = {}
    for aid, day, won, amount in rows:
        if aid is not None and day is not None:
            out.setdefault(aid, []).append((day, not won, amount))
    return out


def _decisions(
    renewals: list[tuple[date, bool, float | None]],
) -> list[tuple[date, bool, float | None]]:
    """The renewal decisions to judge an account on, in order of preference: its first lost
    renewal (the churn) if any, else its won renewals, latest first."""
    lost = [r for r in renewals if r[1]]
    return lost[:1] if lost else list(reversed(renewals))


def samples_from_database(
    session: Session, horizon_days: int, min_lead_days: int
) -> tuple[list[Sample], dict[str, Any]]:
    """Evaluation samples and the windows used (for the report); snapshots are streamed one
    account at a time, so memory stays flat on long histories."""
    outcomes = renewal_outcomes(session)
    last_day = session.scalar(select(func.max(HealthSnapshot.as_of)))
    if last_day is None:
        return [], {"snapshots": 0}
    rows = session.execute(
        select(
            HealthSnapshot.account_id, HealthSnapshot.as_of, HealthSnapshot.computed_score,
            func.coalesce(HealthSnapshot.computed_band, HealthSnapshot.band), HealthSnapshot.id,
        ).order_by(HealthSnapshot.account_id, HealthSnapshot.as_of)
        .execution_options(yield_per=SNAPSHOT_STREAM_ROWS)
    )  # fmt: skip
    chosen: dict[int, tuple[int, Sample]] = {}
    for aid, group in groupby(rows, key=lambda r: r[0]):
        snaps = [(day, score, band, sid) for _, day, score, band, sid in group]
        for when, lost, amount in _decisions(outcomes.get(aid, [])):
            lo, hi = when - timedelta(days=horizon_days), when - timedelta(days=min_lead_days)
            fit = [x for x in snaps if lo <= x[0] <= hi and x[1] is not None]
            if not fit:
                continue
            day, score, band, sid = fit[-1]
            sample = Sample(aid, lost, score, band, as_of=day, arr=amount, decided_on=when)
            if lost:
                sample.lead_days = _red_run_days([x for x in snaps if x[0] < when], when)
            chosen[aid] = (sid, sample)
            break
    _add_details(session, chosen)
    windows = {
        "snapshots_until": last_day.isoformat(),
        "judged_on": "last scored snapshot min_lead..horizon days before the renewal decision",
        "horizon_days": horizon_days,
        "min_lead_days": min_lead_days,
        "accounts_with_lost_renewal": sum(1 for r in outcomes.values() if any(x[1] for x in r)),
    }
    return [s for _, s in sorted(chosen.values(), key=lambda v: v[1].account_id)], windows


def _red_run_days(before: list[tuple[date, float | None, str, int]], churned_on: date) -> float:
    """Days from the start of the red run that lasted until the last snapshot before churn."""
    start = None
    for day, _, band, _ in reversed(before):
        if band != "red":
            break
        start = day
    return 0.0 if start is None else float((churned_on - start).days)


def _add_details(session: Session, chosen: dict[int, tuple[int, Sample]]) -> None:
    by_snapshot = {sid: s for sid, s in chosen.values()}
    ids = list(by_snapshot)
    for i in range(0, len(ids), 5000):
        rows = session.execute(
            select(
                HealthSnapshot.id, HealthSnapshot.trend_28d, HealthSnapshot.signals,
                HealthSnapshot.renewal_risk, Account.arr,
            ).join(Account, Account.id == HealthSnapshot.account_id)
            .where(HealthSnapshot.id.in_(ids[i : i + 5000]))
        )  # fmt: skip
        for sid, trend, signals, risk, arr in rows:
            s = by_snapshot[sid]
            s.trend_28d, s.signals, s.stored_risk = trend, signals or {}, risk
            s.arr = s.arr or arr  # the renewal's amount first: ARR is often zeroed after a loss
