"""Score accounts as of a day and upsert their health snapshots in the caller's transaction."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from model.tables import Account, HealthSnapshot, ScoreOverride
from scoring.config import Percentile, Scorecard
from scoring.health import HealthResult, PastScore, apply_trend, band_for, score_health
from scoring.normalize import attach_percentiles
from scoring.queries import end_of
from scoring.renewal import RenewalModel, describe_drivers, model_for, risk_features, risk_level
from scoring.rollup import roll_up
from scoring.signals import AccountSignals, compute_signals

log = logging.getLogger(__name__)
CHUNK = 5000


def score_accounts(
    session: Session,
    as_of: date,
    scorecard: Scorecard,
    account_ids: Sequence[int] | None = None,
    *,
    risk_model: RenewalModel | None = None,
    now: datetime | None = None,
) -> list[HealthSnapshot]:
    """Compute and upsert one snapshot per account for `as_of`; the caller commits."""
    signals = compute_signals(session, as_of, account_ids)
    _attach_percentiles(session, as_of, scorecard, signals, account_ids)
    ids = sorted(signals)
    window = scorecard.trend.window_days + scorecard.trend.tolerance_days
    history = _history(session, as_of, window, None if account_ids is None else ids)
    results = {aid: score_health(s, scorecard, history.get(aid, ())) for aid, s in signals.items()}
    parents = {aid: s.parent_id for aid, s in signals.items()}
    arr = {aid: s.arr for aid, s in signals.items()}
    outside = _outside_children(session, as_of, ids) if account_ids is not None else None
    for pid in roll_up(results, parents, arr, scorecard, outside):
        apply_trend(results[pid], as_of, scorecard, history.get(pid, ()))
    model = risk_model or model_for(scorecard)
    moment = min(now or datetime.now(UTC), end_of(as_of))
    overrides = _active_overrides(session, moment, None if account_ids is None else ids)
    rows = [
        _row(aid, as_of, results[aid], signals[aid], model, scorecard, overrides.get(aid))
        for aid in ids
    ]
    snaps = _upsert(session, as_of, rows)
    log.info("scored %s accounts as of %s (%s overrides active)", len(snaps), as_of, len(overrides))
    return snaps


def backfill_snapshots(
    session: Session,
    start: date,
    end: date,
    scorecard: Scorecard,
    step_days: int = 7,
    *,
    risk_model: RenewalModel | None = None,
) -> int:
    """Replay history: score every `step_days` from start to end (oldest first, so trends see
    earlier snapshots); returns the number of snapshots written."""
    if step_days < 1:
        raise ValueError("step_days must be at least 1")
    written, day = 0, start
    while day <= end:
        written += len(score_accounts(session, day, scorecard, risk_model=risk_model))
        session.flush()
        day += timedelta(days=step_days)
    return written


def _attach_percentiles(
    session: Session,
    as_of: date,
    scorecard: Scorecard,
    signals: dict[int, AccountSignals],
    account_ids: Sequence[int] | None,
) -> None:
    """Percentiles rank among all accounts, so a subset is ranked against the full population."""
    if not any(isinstance(m.normalization, Percentile) for m in scorecard.measures.values()):
        return
    if account_ids is None:
        attach_percentiles(signals.values(), scorecard)
        return
    population = compute_signals(session, as_of)
    attach_percentiles(population.values(), scorecard)
    for aid, s in signals.items():
        if aid in population:
            s.percentiles = population[aid].percentiles


def _history(
    session: Session, as_of: date, days: int, ids: list[int] | None
) -> dict[int, list[PastScore]]:
    stmt = select(HealthSnapshot.account_id, HealthSnapshot.as_of, HealthSnapshot.computed_score)
    stmt = stmt.where(
        HealthSnapshot.as_of < as_of, HealthSnapshot.as_of >= as_of - timedelta(days=days)
    )
    out: dict[int, list[PastScore]] = defaultdict(list)
    for chunk in _chunks(ids):
        q = stmt if chunk is None else stmt.where(HealthSnapshot.account_id.in_(chunk))
        for aid, day, score in session.execute(q):
            out[aid].append(PastScore(day, score))
    return out


def _outside_children(
    session: Session, as_of: date, ids: list[int]
) -> dict[int, list[tuple[int, float | None, float | None]]]:
    """Children of the scored parents that are not being scored now, with today's snapshot."""
    out: dict[int, list[tuple[int, float | None, float | None]]] = defaultdict(list)
    for chunk in _chunks(ids):
        rows = session.execute(
            select(Account.parent_id, Account.id, HealthSnapshot.computed_score, Account.arr)
            .join(HealthSnapshot, HealthSnapshot.account_id == Account.id)
            .where(Account.parent_id.in_(chunk or []), Account.id.not_in(ids))
            .where(HealthSnapshot.as_of == as_of, Account.is_deleted.is_(False))
        )
        for pid, cid, score, arr in rows:
            if pid is not None:
                out[pid].append((cid, score, arr))
    return out


def _active_overrides(
    session: Session, moment: datetime, ids: list[int] | None
) -> dict[int, ScoreOverride]:
    """Unrevoked overrides created before `moment` and expiring after it; the newest wins."""
    stmt = select(ScoreOverride).where(
        ScoreOverride.revoked.is_(False),
        ScoreOverride.created_at <= moment,
        ScoreOverride.expires_at > moment,
    )
    out: dict[int, ScoreOverride] = {}
    for chunk in _chunks(ids):
        q = stmt if chunk is None else stmt.where(ScoreOverride.account_id.in_(chunk))
        for o in session.scalars(q.order_by(ScoreOverride.created_at, ScoreOverride.id)):
            out[o.account_id] = o
    return out


def _row(
    aid: int,
    as_of: date,
    r: HealthResult,
    s: AccountSignals,
    model: RenewalModel,
    scorecard: Scorecard,
    override: ScoreOverride | None,
) -> dict[str, Any]:
    """One snapshot's column values; risk is computed from the computed (not overridden) score."""
    signals = dict(r.signals)
    signals["measure_scores"] = r.measure_scores
    if r.trend_slope is not None:
        signals["trend_slope_per_week"] = r.trend_slope
    risk = level = None
    drivers: list[dict[str, Any]] = []
    x = risk_features(r.score, r.trend_28d, signals)
    if x is not None and r.score is not None:
        risk = round(model.predict(x), 4)
        level = risk_level(risk, scorecard)
        drivers = describe_drivers(model, x, signals, r.score)
        drivers += [{"driver": "health", "text": why.text} for why in r.reasons[:2]]
    score, band = r.score, r.band
    if override is not None:
        score = override.score if override.score is not None else score
        band = override.band or band_for(score, scorecard)
    return {
        "account_id": aid, "as_of": as_of, "score": score, "band": band, "profile": r.profile,
        "coverage": r.coverage, "trend_28d": r.trend_28d, "sharp_drop": r.sharp_drop,
        "reasons": [why.as_dict() for why in r.reasons], "signals": signals,
        "contradictions": r.contradictions, "renewal_risk": risk, "risk_level": level,
        "risk_drivers": drivers, "computed_score": r.score, "computed_band": r.band,
        "override_id": None if override is None else override.id,
        "computed_at": datetime.now(UTC),
    }  # fmt: skip


def _upsert(session: Session, as_of: date, rows: list[dict[str, Any]]) -> list[HealthSnapshot]:
    """Update the day's existing snapshots by primary key, insert the rest (unique account+day)."""
    if not rows:
        return []
    ids = [r["account_id"] for r in rows]
    existing: dict[int, int] = {}
    for chunk in _chunks(ids):
        q = select(HealthSnapshot.account_id, HealthSnapshot.id).where(
            HealthSnapshot.as_of == as_of, HealthSnapshot.account_id.in_(chunk or [])
        )
        existing.update(session.execute(q).tuples().all())
    updates = [{**r, "id": existing[r["account_id"]]} for r in rows if r["account_id"] in existing]
    inserts = [r for r in rows if r["account_id"] not in existing]
    if updates:
        session.execute(update(HealthSnapshot), updates)
    snaps: list[HealthSnapshot] = []
    for i in range(0, len(inserts), CHUNK):
        stmt = insert(HealthSnapshot).returning(HealthSnapshot)
        snaps.extend(session.scalars(stmt, inserts[i : i + CHUNK]).all())
    for chunk in _chunks([u["id"] for u in updates]):
        fresh = select(HealthSnapshot).where(HealthSnapshot.id.in_(chunk or []))
        snaps.extend(session.scalars(fresh.execution_options(populate_existing=True)))
    return sorted(snaps, key=lambda s: s.account_id)


def _chunks(ids: list[int] | None) -> list[list[int] | None]:
    if ids is None:
        return [None]
    return [ids[i : i + CHUNK] for i in range(0, len(ids), CHUNK)]
