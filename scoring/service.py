"""Score accounts as of a day and upsert their health snapshots in the caller's transaction.

`score_accounts` returns the snapshot rows (the interface the pipeline uses). `score_all`
does the same for every account in batches and returns only band counts, so memory stays
flat for large books (100k accounts); parents are rolled up in a final pass over the
children's stored snapshots.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from model.tables import HealthSnapshot, ScoreOverride
from scoring import store
from scoring.alert_fit import with_fitted_high_at
from scoring.band_fit import with_fitted_bands
from scoring.config import Percentile, Scorecard
from scoring.digest_marks import DigestSource, digests_of
from scoring.health import HealthResult, apply_trend, score_health
from scoring.lagged import Past, past_usage
from scoring.normalize import attach_percentiles
from scoring.overrides import apply_override
from scoring.queries import end_of, usage_feed_last
from scoring.renewal import RenewalModel, describe_drivers, model_for, risk_features, risk_level
from scoring.risk_model import NEAR_DRIVERS, FittedRisk, snapshot_features
from scoring.risk_versions import active_model
from scoring.rollup import roll_up
from scoring.signals import AccountSignals, compute_signals

log = logging.getLogger(__name__)
# accounts scored together: each batch's signals, reasons and past usage are held at once,
# so a batch this size keeps a large book's scoring at a small one's. Measured on a
# 10,000-account book's day (PostgreSQL): 5,000 -> 2,000 cut the day's scoring from +111 to
# +51 MiB for 5% more time (1,000 then: +29 MiB, 13% more time). Since the batch reads
# grouped ticket tags and four stored measures instead of rows per ticket and whole
# signals, 2,000 -> 1,000 on a 5,000-account day: +37 -> +23 MiB, time within the noise
BATCH = 1000
RiskScorer = RenewalModel | FittedRisk
UNCALIBRATED = {
    "driver": "uncalibrated",
    "text": "uncalibrated: prior formula until enough renewal outcomes are fitted",
}


def current_risk_model(session: Session, scorecard: Scorecard) -> RiskScorer:
    """The newest fitted model in the database, else the scorecard's (saved or prior) model."""
    return active_model(session) or model_for(scorecard)


def score_accounts(
    session: Session,
    as_of: date,
    scorecard: Scorecard,
    account_ids: Sequence[int] | None = None,
    *,
    risk_model: RiskScorer | None = None,
    now: datetime | None = None,
    feed_last: date | None = None,
    digests: DigestSource | None = None,
) -> list[HealthSnapshot]:
    """Compute and upsert one snapshot per account for `as_of`; the caller commits."""
    signals = compute_signals(session, as_of, account_ids, feed_last=feed_last)
    if _has_percentiles(scorecard):
        population = signals if account_ids is None else compute_signals(session, as_of)
        attach_percentiles(population.values(), scorecard)
        for aid, s in signals.items():
            s.percentiles = population[aid].percentiles if aid in population else {}
    model = risk_model or current_risk_model(session, scorecard)
    scorecard = _bands_of(scorecard, model)
    rows = _score(session, as_of, scorecard, signals, account_ids is not None, model, now)
    _add_digests(session, rows, digests)
    snaps = store.upsert_snapshots(session, as_of, rows)
    log.info("scored %s accounts as of %s", len(snaps), as_of)
    return snaps


def score_all(
    session: Session,
    as_of: date,
    scorecard: Scorecard,
    *,
    batch_size: int = BATCH,
    risk_model: RiskScorer | None = None,
    now: datetime | None = None,
    digests: DigestSource | None = None,
) -> dict[str, int]:
    """Score every live account in batches (nothing loaded back); returns band counts."""
    model = risk_model or current_risk_model(session, scorecard)
    scorecard = _bands_of(scorecard, model)
    percentiles: dict[int, dict[str, float]] = {}
    if _has_percentiles(scorecard):
        population = compute_signals(session, as_of)
        attach_percentiles(population.values(), scorecard)
        percentiles = {aid: s.percentiles for aid, s in population.items()}
        del population
    ids = store.live_account_ids(session)
    parents = set(store.parent_ids(session))
    bands: Counter[str] = Counter()
    feed_last = usage_feed_last(session, as_of)
    for i in range(0, len(ids), batch_size):
        signals = compute_signals(session, as_of, ids[i : i + batch_size], feed_last=feed_last)
        _copy_percentiles(signals, percentiles)
        rows = _score(session, as_of, scorecard, signals, False, model, now)
        _add_digests(session, rows, digests)
        store.upsert_snapshots(session, as_of, rows, returning=False)
        bands.update(r["band"] for r in rows if r["account_id"] not in parents)
        session.flush()
    if parents:  # re-roll parents over their children's stored snapshots, deepest first
        # in one call (the roll-up orders nested parents), nothing loaded back: at 50,000
        # accounts their ~2,500 snapshots as ORM objects were the day's scoring's peak (+14 MiB)
        signals = compute_signals(session, as_of, sorted(parents), feed_last=feed_last)
        _copy_percentiles(signals, percentiles)
        rows = _score(session, as_of, scorecard, signals, True, model, now)
        _add_digests(session, rows, digests)
        store.upsert_snapshots(session, as_of, rows, returning=False)
        bands.update(r["band"] for r in rows)
    log.info("scored %s accounts as of %s in batches of %s", bands.total(), as_of, batch_size)
    return dict(bands)


def backfill_snapshots(
    session: Session,
    start: date,
    end: date,
    scorecard: Scorecard,
    step_days: int = 7,
    *,
    risk_model: RiskScorer | None = None,
) -> int:
    """Replay history: score every `step_days` from start to end (oldest first, so trends see
    earlier snapshots); returns the number of snapshots written."""
    if step_days < 1:
        raise ValueError("step_days must be at least 1")
    written, day = 0, start
    while day <= end:
        counts = score_all(session, day, scorecard, risk_model=risk_model)
        written += sum(counts.values())
        day += timedelta(days=step_days)
    return written


def _bands_of(scorecard: Scorecard, model: RiskScorer) -> Scorecard:
    """The band cut-offs and high-risk threshold fitted beside the active risk model, when the
    scorecard wants them (the prior keeps the scorecard's own)."""
    if not isinstance(model, FittedRisk):
        return scorecard
    return with_fitted_high_at(with_fitted_bands(scorecard, model.bands), model.alert)


def _add_digests(
    session: Session, rows: list[dict[str, Any]], digests: DigestSource | None
) -> None:
    """Store each row's inputs digest (scoring/changes.py); None when not computed, so the
    next incremental run re-scores the account rather than trust a stale digest."""
    found = digests_of(session, digests, [r["account_id"] for r in rows])
    for r in rows:
        r["inputs_digest"] = found.get(r["account_id"])


def _has_percentiles(scorecard: Scorecard) -> bool:
    return any(isinstance(m.normalization, Percentile) for m in scorecard.measures.values())


def _copy_percentiles(
    signals: dict[int, AccountSignals], percentiles: Mapping[int, dict[str, float]]
) -> None:
    for aid, s in signals.items():
        s.percentiles = percentiles.get(aid, {})


def _score(
    session: Session,
    as_of: date,
    scorecard: Scorecard,
    signals: dict[int, AccountSignals],
    subset: bool,
    model: RiskScorer,
    now: datetime | None,
) -> list[dict[str, Any]]:
    """Snapshot rows for these accounts: health, roll-up, overrides and renewal risk."""
    ids = sorted(signals)
    window = scorecard.trend.window_days + scorecard.trend.tolerance_days
    history = store.load_history(
        session, as_of, window, ids if subset or len(ids) < 50_000 else None
    )
    results = {aid: score_health(s, scorecard, history.get(aid, ())) for aid, s in signals.items()}
    past = (  # the risk model's usage history inputs (scoring/lagged.py); the prior needs none
        past_usage(session, as_of, ids if subset or len(ids) < 50_000 else None)
        if isinstance(model, FittedRisk)
        else {}
    )
    parents = {aid: s.parent_id for aid, s in signals.items()}
    arr = {aid: s.arr for aid, s in signals.items()}
    outside = store.outside_children(session, as_of, ids) if subset else None
    for pid in roll_up(results, parents, arr, scorecard, outside):
        apply_trend(results[pid], as_of, scorecard, history.get(pid, ()))
    moment = min(now or datetime.now(UTC), end_of(as_of))
    overrides = store.active_overrides(session, moment, ids)
    return [
        _row(aid, as_of, results[aid], signals[aid], model, scorecard, overrides.get(aid),
             past.get(aid))
        for aid in ids
    ]  # fmt: skip


def _row(
    aid: int,
    as_of: date,
    r: HealthResult,
    s: AccountSignals,
    model: RiskScorer,
    scorecard: Scorecard,
    override: ScoreOverride | None,
    past: Past | None = None,
) -> dict[str, Any]:
    """One snapshot's column values; risk is computed from the computed (not overridden) score."""
    signals = dict(r.signals)
    signals["measure_scores"] = r.measure_scores
    if r.trend_slope is not None:
        signals["trend_slope_per_week"] = r.trend_slope
    risk = level = None
    drivers: list[dict[str, Any]] = []
    x = risk_features(r.score, r.trend_28d, signals)
    if isinstance(model, FittedRisk) and r.score is not None:
        features = snapshot_features(r.score, r.trend_28d, signals, past)
        risk = round(model.predict(features, s.segment), 4)
        level = risk_level(risk, scorecard)
        drivers, near = model.drivers_and_near(features, s.segment, scorecard.phrases)
        if near:  # for the write-back's hysteresis only (sync/deadband.py), never shown
            signals[NEAR_DRIVERS] = near
    elif isinstance(model, RenewalModel) and x is not None and r.score is not None:
        risk = round(model.predict(x), 4)
        level = risk_level(risk, scorecard)
        drivers = [UNCALIBRATED] if model.source == "prior" else []
        drivers += describe_drivers(model, x, signals, r.score)
        drivers += [{"driver": "health", "text": why.text} for why in r.reasons[:2]]
    score, band, reasons = r.score, r.band, [why.as_dict() for why in r.reasons]
    if override is not None:
        o = apply_override(score, band, reasons, override, scorecard)
        score, band, reasons = o.score, o.band, o.reasons
    return {
        "account_id": aid, "as_of": as_of, "score": score, "band": band, "profile": r.profile,
        "coverage": r.coverage, "trend_28d": r.trend_28d, "sharp_drop": r.sharp_drop,
        "reasons": reasons, "signals": signals,
        "contradictions": r.contradictions, "renewal_risk": risk, "risk_level": level,
        "risk_drivers": drivers, "computed_score": r.score, "computed_band": r.band,
        "override_id": None if override is None else override.id,
        "computed_at": datetime.now(UTC),
    }  # fmt: skip
