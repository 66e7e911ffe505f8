"""The high-risk threshold fitted for lead time, beside the renewal-risk model it applies to.

The scorecard's fixed `risk.high_at` was tuned once; on a given book it may flag far fewer
(or more) renewals than the false-alarm budget allows. When a model is fitted, every renewal
decided inside its training history is judged on the model's cross-fitted probability
(`FitResult.oof`: each account predicted by a model that never saw it, so the probabilities
look like the ones new data will get) at the account's last snapshot `lead_days` to
`lead_days + SLACK_DAYS` before the decision — the same judged snapshot as `scoring.lead_time`
— and `high_at` is the lowest threshold (so the most lost renewals flagged) expected to flag at
most `high_false_alarms` of *new* won renewals (p >= high_at is high risk; see `threshold`:
the in-sample share is kept about 1 / n under the budget, so out of sample it holds on average).

With fewer than `min_won` won or `min_lost` lost renewals judged, nothing is fitted and the
scorecard's `risk.high_at` stays. The result is stored with the model version
(`RiskModelVersion.params["alert"]`) and used by `risk_level` while that version is active and
the scorecard's `bands.fit` is set; the uncalibrated prior always uses the scorecard's value.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import date
from itertools import groupby
from typing import Any

from scoring.backtest import Outcomes as Outcomes  # re-exported: the flag fit reads it here
from scoring.band_fit import last_before
from scoring.config import BandFit, Scorecard

Judged = tuple[int, int, float, bool]  # account, lead days, probability, lost?
DECIMALS = 4  # risks are stored rounded to this many places


def judged_risks(
    keys: Sequence[tuple[int, date]], probs: Sequence[float], outcomes: Outcomes, lead: int
) -> list[Judged]:
    """One probability per decided renewal at `lead` days ahead (the first loss ends an
    account); `keys` are (account, snapshot day) pairs sorted by account, as in TrainingSet."""
    out: list[Judged] = []
    rows = sorted(zip(keys, probs, strict=True), key=lambda r: (r[0][0], r[0][1]))
    for aid, group in groupby(rows, key=lambda r: r[0][0]):
        snaps = [(day, p) for (_, day), p in group]
        for when, lost, _ in outcomes.get(aid, []):
            p = last_before(snaps, when, lead)
            if p is not None:
                out.append((aid, lead, round(p, DECIMALS), bool(lost)))
            if lost:
                break
    return out


def threshold(won: Sequence[float], false_alarms: float) -> float:
    """The lowest threshold on the 10^-DECIMALS grid whose *expected out-of-sample* share of won
    renewals flagged is at most `false_alarms`: just above the (k+1)-th highest won probability,
    with k the largest count such that (k + 1) / (n + 1) <= `false_alarms`.

    Why not the in-sample share: a threshold placed just above the (k+1)-th highest of n won
    probabilities flags k of them, but a new won renewal (exchangeable with them) lands in any
    of the n + 1 gaps between them with equal chance, so it is flagged with probability
    (k + 1) / (n + 1). Filling the budget in sample (k = floor(budget x n)) therefore
    overshoots it on new renewals by about 1 / n — on ~120 won renewals a 10% budget came out
    at 10.4% on average. This rule costs at most one in-sample alarm."""
    ordered = sorted(won, reverse=True)
    allowed = allowed_alarms(len(ordered), false_alarms)
    if allowed >= len(ordered):
        return 0.0
    step = 10.0**-DECIMALS
    top = ordered[max(allowed, 0)]  # with no alarm affordable, just above the highest
    return round(math.floor(top / step + 1e-6) * step + step, DECIMALS)


def allowed_alarms(n: int, false_alarms: float) -> int:
    """The largest count k of n won renewals flagged with (k + 1) / (n + 1) <= `false_alarms`
    (-1 when not even none is: then nothing may be flagged)."""
    return math.floor(false_alarms * (n + 1) + 1e-9) - 1


def fit_high_at(judged: Sequence[Judged], config: BandFit) -> dict[str, Any] | None:
    """The fitted threshold and what it achieves on the judged renewals; None with too few."""
    won = [p for _, _, p, lost in judged if not lost]
    lost = [p for _, _, p, is_lost in judged if is_lost]
    if len(won) < config.min_won or len(lost) < config.min_lost:
        return None
    high = min(threshold(won, config.high_false_alarms), 1.0 - 10.0**-DECIMALS)
    return {
        "high_at": high, "lead_days": config.lead_days,
        "judged_won": len(won), "judged_lost": len(lost),
        "false_alarms": round(sum(p >= high for p in won) / len(won), 4),
        "detected": round(sum(p >= high for p in lost) / len(lost), 4),
    }  # fmt: skip


def fit_high_at_on_training(
    keys: Sequence[tuple[int, date]], oof: Sequence[float], outcomes: Outcomes, config: BandFit
) -> dict[str, Any] | None:
    """The threshold for a model just fitted, from its cross-fitted training probabilities."""
    return fit_high_at(judged_risks(keys, oof, outcomes, config.lead_days), config)


def with_fitted_high_at(scorecard: Scorecard, fitted: Mapping[str, Any] | None) -> Scorecard:
    """The scorecard with the fitted high-risk threshold, when it asks for fits and one exists."""
    if not fitted or scorecard.bands.fit is None:
        return scorecard
    risk = scorecard.risk.model_copy(update={"high_at": float(fitted["high_at"])})
    return scorecard.model_copy(update={"risk": risk})
