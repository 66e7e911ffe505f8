"""Band cut-offs fitted for lead time on the database's own renewal history.

A fixed `red_below: 50` rarely fires on a book whose scores sit at 70-90, so a red band warns
of almost no churn ahead of time. Here the cut-offs are read off the history instead: every
renewal decided inside the snapshot history is judged on the account's computed score
`lead_days` (and half and one-and-a-half times that) before the decision — the same judged
snapshot as `scoring.lead_time` — and

- `red_below` is the highest cut-off that puts at most `red_false_alarms` of the *won*
  renewals' judged scores below it (a cut-off between two scores catches every lost renewal
  below it, so the highest allowed one catches the most churners ahead of time);
- `green_at` likewise at `yellow_false_alarms`, and never below `red_below`.

Only computed scores are read (never overrides or bands), so the cut-offs do not feed on
themselves. With fewer than `min_won` won or `min_lost` lost renewals judged, nothing is
fitted and the scorecard's own cut-offs stay. The result is stored with the renewal-risk
model version it was fitted beside (`RiskModelVersion.params["bands"]`) and used while that
version is active and the scorecard's `bands.fit` is set.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date, timedelta
from itertools import groupby
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from model.tables import HealthSnapshot
from scoring.backtest import Outcomes, renewal_outcomes
from scoring.config import BandFit, Bands, Scorecard
from scoring.lead_time import SLACK_DAYS
from scoring.store import SNAPSHOT_STREAM_ROWS

Judged = tuple[int, int, float, bool]  # account, lead days, computed score, lost?
T = TypeVar("T")
CURVE_LEADS = (0, 15, 30, 45, 60, 75, 90, 120, 150)  # the audit page's lead-time curve


def fit_leads(config: BandFit) -> tuple[int, ...]:
    """The leads judged: half, once and one-and-a-half times `lead_days` (30/60/90 by default)."""
    return tuple(
        sorted({max(1, config.lead_days // 2), config.lead_days, config.lead_days * 3 // 2})
    )


def judged_scores(
    session: Session, leads: Sequence[int], outcomes: Outcomes | None = None
) -> list[Judged]:
    """One computed score per decided renewal and lead (the first loss ends an account);
    `outcomes`: the renewal decisions, when the caller holds them already (read otherwise)."""
    outcomes = renewal_outcomes(session) if outcomes is None else outcomes
    rows = session.execute(
        select(HealthSnapshot.account_id, HealthSnapshot.as_of, HealthSnapshot.computed_score)
        .where(HealthSnapshot.computed_score.is_not(None))
        .order_by(HealthSnapshot.account_id, HealthSnapshot.as_of)
        .execution_options(yield_per=SNAPSHOT_STREAM_ROWS)
    )  # fmt: skip
    out: list[Judged] = []
    for aid, group in groupby(rows, key=lambda r: r[0]):
        snaps = [(day, float(score)) for _, day, score in group if score is not None]
        for when, lost, _ in outcomes.get(aid, []):
            for lead in leads:
                score = last_before(snaps, when, lead)
                if score is not None:
                    out.append((aid, lead, score, lost))
            if lost:
                break
    return out


def last_before(snaps: Sequence[tuple[date, T]], decided: date, lead: int) -> T | None:
    """The value of the last snapshot `lead`..`lead + SLACK_DAYS` days before `decided`."""
    hi, lo = decided - timedelta(days=lead), decided - timedelta(days=lead + SLACK_DAYS)
    fit = [s for d, s in snaps if lo <= d <= hi]
    return fit[-1] if fit else None


def cutoff(won_scores: Sequence[float], false_alarms: float) -> float:
    """The highest cut-off with at most `false_alarms` of `won_scores` strictly below it."""
    ordered = sorted(won_scores)
    allowed = math.floor(false_alarms * len(ordered))
    return ordered[min(allowed, len(ordered) - 1)]


def lead_curve(judged: Sequence[Judged], red_below: float) -> list[dict[str, Any]]:
    """Per lead N: the share of lost renewals red N days before the decision, and of won
    renewals red then (false alarms), under one cut-off."""
    out = []
    for lead in sorted({d for _, d, _, _ in judged}):
        lost = [s < red_below for _, d, s, is_lost in judged if d == lead and is_lost]
        won = [s < red_below for _, d, s, is_lost in judged if d == lead and not is_lost]
        out.append({
            "lead_days": lead, "lost": len(lost), "won": len(won),
            "detected": round(sum(lost) / len(lost), 4) if lost else None,
            "false_alarms": round(sum(won) / len(won), 4) if won else None,
        })  # fmt: skip
    return out


def fit_bands(
    judged: Sequence[Judged], config: BandFit, red_below: float | None = None
) -> dict[str, Any] | None:
    """Cut-offs and what they achieve on the judged scores (at the fitting leads); None with
    too little history. Rows at other leads only feed the lead-time curve. A `red_below` given
    (fitted jointly with high risk, `scoring.flag_fit`) is kept instead of fitting red alone."""
    leads = set(fit_leads(config))
    fitting = [j for j in judged if j[1] in leads]
    won = [s for _, _, s, lost in fitting if not lost]
    lost = [s for _, _, s, is_lost in fitting if is_lost]
    if len(won) < config.min_won or len(lost) < config.min_lost:
        return None
    red = round_down(cutoff(won, config.red_false_alarms))  # rounding down never adds an alarm
    if red_below is not None:
        red = red_below
    green = max(red, round_down(cutoff(won, config.yellow_false_alarms)))
    out: dict[str, Any] = {"red_below": red, "green_at": green, "lead_days": config.lead_days}
    out["judged_won"], out["judged_lost"] = len(won), len(lost)
    out["red_false_alarms"] = round(sum(s < red for s in won) / len(won), 4)
    out["red_detected"] = round(sum(s < red for s in lost) / len(lost), 4)
    out["not_green_false_alarms"] = round(sum(s < green for s in won) / len(won), 4)
    out["not_green_detected"] = round(sum(s < green for s in lost) / len(lost), 4)
    out["curve"] = lead_curve(judged, red)
    return out


def round_down(score: float) -> float:
    return math.floor(score * 10) / 10


def fit_bands_from_database(
    session: Session,
    config: BandFit,
    red_below: float | None = None,
    outcomes: Outcomes | None = None,
) -> dict[str, Any] | None:
    leads = sorted({*fit_leads(config), *CURVE_LEADS})
    return fit_bands(judged_scores(session, leads, outcomes), config, red_below)


def with_fitted_bands(scorecard: Scorecard, fitted: dict[str, Any] | None) -> Scorecard:
    """The scorecard with fitted cut-offs, when it asks for them and they exist."""
    if not fitted or scorecard.bands.fit is None:
        return scorecard
    bands = Bands(
        red_below=float(fitted["red_below"]),
        green_at=float(fitted["green_at"]),
        fit=scorecard.bands.fit,
    )
    return scorecard.model_copy(update={"bands": bands})
