"""The red cut-off and the high-risk threshold fitted together, for the flag people act on.

A churner counts as warned when it is flagged **red or high risk** (`scoring.lead_time`), so the
false-alarm budget is a budget for that union: fitting red at 9% and high at 10% separately
flagged ~12% of won renewals 60 days ahead on the tuning seeds. Here every renewal decided
inside the model's training history is judged on one snapshot `lead_days` to
`lead_days + SLACK_DAYS` before the decision — its computed score and the model's cross-fitted
probability there (`FitResult.oof`) — and both cut-offs are set at the same tail of the *won*
renewals: red below the j-th lowest won score, high at and above just over the j-th highest
won probability, with j the largest whose union flags at most k of the n won renewals, k the
largest count with (k + 1) / (n + 1) <= `flag_false_alarms` (the out-of-sample rule of
`scoring.alert_fit.threshold`: a new won renewal is flagged with that chance).

Why equal tails, not the pair that catches the most lost renewals in sample: that search over
pairs fits noise; cross-fitted on tuning seeds 1-5 it came out at 10.1% false alarms (worst
seed 12.9%) against 10.0% (worst 11.4%) for equal tails (docs/performance.md).

With fewer than `min_won` won or `min_lost` lost renewals judged, nothing is fitted and the
separate fits (`scoring.band_fit`, `scoring.alert_fit`) stay. The result is stored as the model
version's `alert` (its `high_at`) and its `bands` (their `red_below`), so `risk_level` and the
bands apply it through the same paths as before.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date
from itertools import groupby
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from model.tables import HealthSnapshot
from scoring.alert_fit import DECIMALS, Outcomes, allowed_alarms
from scoring.band_fit import last_before, round_down
from scoring.config import BandFit
from scoring.store import SNAPSHOT_STREAM_ROWS

Pair = tuple[int, float, float, bool]  # account, computed score, probability, lost?
Key = tuple[int, date]


def judged_pairs(
    keys: Sequence[Key],
    probs: Sequence[float],
    scores: Sequence[float | None],
    outcomes: Outcomes,
    lead: int,
) -> list[Pair]:
    """One (score, probability) per decided renewal at `lead` days ahead, from the snapshots
    that have both (`scores[i]` is the computed score of the snapshot `keys[i]`; the first loss
    ends an account): a snapshot without a computed score is grey and, as in
    `scoring.lead_time`, not judged."""
    rows = sorted(
        ((k, s, p) for k, s, p in zip(keys, scores, probs, strict=True) if s is not None),
        key=lambda r: r[0],
    )
    out: list[Pair] = []
    for aid, group in groupby(rows, key=lambda r: r[0][0]):
        snaps = [(day, (s, p)) for (_, day), s, p in group]
        for when, lost, _ in outcomes.get(aid, []):
            judged = last_before(snaps, when, lead)
            if judged is not None:
                out.append((aid, judged[0], round(judged[1], DECIMALS), bool(lost)))
            if lost:
                break
    return out


def snapshot_scores(session: Session) -> dict[Key, float]:
    """Every snapshot's computed score by (account, day) (the benches' cross-fitted flag reads
    it; a fit takes its training rows' scores from `TrainingSet.scores` instead)."""
    rows = session.execute(
        select(HealthSnapshot.account_id, HealthSnapshot.as_of, HealthSnapshot.computed_score)
        .where(HealthSnapshot.computed_score.is_not(None))
        .execution_options(yield_per=SNAPSHOT_STREAM_ROWS)
    )  # fmt: skip
    return {(aid, day): float(score) for aid, day, score in rows if score is not None}


def equal_tail_cutoffs(won: Sequence[tuple[float, float]], k: int) -> tuple[float, float]:
    """(red_below, high_at) at the widest equal tail of the won (score, probability) pairs whose
    union flags at most `k` of them; with none affordable, cut-offs that flag none."""
    scores = sorted(s for s, _ in won)
    probs = sorted((p for _, p in won), reverse=True)
    step = 10.0**-DECIMALS
    best = (0.0, 1.0 - step)
    for j in range(len(won)):
        red = round_down(scores[j])  # below it: at most the j lowest scores
        high = min(round(math.floor(probs[j] / step + 1e-6) * step + step, DECIMALS), 1.0 - step)
        if sum(s < red or p >= high for s, p in won) > k:
            break
        best = (red, high)
    return best


def fit_flags(pairs: Sequence[Pair], config: BandFit) -> dict[str, Any] | None:
    """The joint cut-offs and what they achieve on the judged renewals; None with too few or
    when the scorecard fits red and high separately (`flag_false_alarms: null`)."""
    if config.flag_false_alarms is None:
        return None
    won = [(s, p) for _, s, p, lost in pairs if not lost]
    lost = [(s, p) for _, s, p, is_lost in pairs if is_lost]
    if len(won) < config.min_won or len(lost) < config.min_lost:
        return None
    red, high = equal_tail_cutoffs(won, allowed_alarms(len(won), config.flag_false_alarms))

    def share(rows: list[tuple[float, float]], hit: Any) -> float:
        return round(sum(hit(s, p) for s, p in rows) / len(rows), 4)

    return {
        "flag": "red or high", "red_below": red, "high_at": high,
        "lead_days": config.lead_days, "judged_won": len(won), "judged_lost": len(lost),
        "false_alarms": share(won, lambda s, p: s < red or p >= high),
        "detected": share(lost, lambda s, p: s < red or p >= high),
        "high_false_alarms": share(won, lambda s, p: p >= high),
        "high_detected": share(lost, lambda s, p: p >= high),
    }  # fmt: skip


def fit_flags_on_training(
    keys: Sequence[Key],
    oof: Sequence[float],
    scores: Sequence[float | None],
    outcomes: Outcomes,
    config: BandFit,
) -> dict[str, Any] | None:
    """The joint cut-offs for a model just fitted, from its cross-fitted training probabilities
    and its training snapshots' computed scores (`TrainingSet.scores`), read with the training
    rows instead of again from every snapshot (the fit's peak was measured the same either
    way: the dict was built after the fold loop had freed its matrices)."""
    if config.flag_false_alarms is None:
        return None
    return fit_flags(judged_pairs(keys, oof, scores, outcomes, config.lead_days), config)
