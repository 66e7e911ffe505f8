"""Lead time: how many churners were flagged 30/60/90 days before they churned, at what false alarms.

For every renewal decided inside the snapshot history, and each lead L, the account is judged
on its last snapshot taken L to L + `slack` days before the decision (weekly snapshots: one
falls in any 7-day window). A lost renewal flagged then is detected L days ahead; a won
renewal flagged then is a false alarm. "Flagged" is a rule over the snapshot: red band, high
risk, or a cross-fitted probability for a model under evaluation.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from itertools import groupby
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from model.tables import HealthSnapshot
from scoring.backtest import renewal_outcomes
from scoring.store import SNAPSHOT_STREAM_ROWS

LEADS = (30, 60, 90)
SLACK_DAYS = 13

Snap = tuple[int, date, str | None, str | None]  # account, as_of, computed band, risk level
Flag = Callable[[Snap], bool]


def red_or_high(snap: Snap) -> bool:
    """The default flag: red band or high renewal risk."""
    return snap[2] == "red" or snap[3] == "high"


def lead_time_report(
    session: Session, flag: Flag = red_or_high, leads: tuple[int, ...] = LEADS
) -> dict[str, Any]:
    """Detected share of lost renewals and false-alarm share of won ones, per lead in days."""
    outcomes = renewal_outcomes(session)
    counts = {lead: [0, 0, 0, 0] for lead in leads}  # lost, detected, won, false alarms
    rows = session.execute(
        select(
            HealthSnapshot.account_id, HealthSnapshot.as_of,
            HealthSnapshot.computed_band, HealthSnapshot.risk_level,
        ).where(HealthSnapshot.computed_score.is_not(None))
        .order_by(HealthSnapshot.account_id, HealthSnapshot.as_of)
        .execution_options(yield_per=SNAPSHOT_STREAM_ROWS)
    )  # fmt: skip
    for aid, group in groupby(rows, key=lambda r: r[0]):
        snaps: list[Snap] = [(a, d, b, r) for a, d, b, r in group]
        for when, lost, _ in outcomes.get(aid, []):
            for lead in leads:
                snap = judged_snapshot(snaps, when, lead)
                if snap is None:
                    continue
                c = counts[lead]
                c[0 if lost else 2] += 1
                if flag(snap):
                    c[1 if lost else 3] += 1
            if lost:
                break
    return summarize(counts)


def judged_snapshot(snaps: list[Snap], decided: date, lead: int) -> Snap | None:
    """The last snapshot `lead`..`lead + SLACK_DAYS` days before the decision, if any."""
    hi, lo = decided - timedelta(days=lead), decided - timedelta(days=lead + SLACK_DAYS)
    fit = [s for s in snaps if lo <= s[1] <= hi]
    return fit[-1] if fit else None


def summarize(counts: dict[int, list[int]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for lead, (lost, detected, won, alarms) in counts.items():
        out[f"{lead}d"] = {
            "lost_renewals": lost,
            "detected": round(detected / lost, 4) if lost else None,
            "won_renewals": won,
            "false_alarms": round(alarms / won, 4) if won else None,
        }
    return out
