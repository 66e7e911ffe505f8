"""Renewal-risk models in the database: the training set from history, versions, the active one.

The training set reads every computed snapshot with its stored signals (computed values, not
CSM overrides) and labels it by the first renewal decided within the horizon after it.
Left out of the features: ARR (a current-state field, zeroed when a renewal is lost; replays
restore it from the contract, but a model must not lean on it), days to renewal (the judged
rows sit at chosen distances from a renewal, so it would learn the sampling) and open
escalations (opened because health fell: the score fed back into itself).

Rows are kept a week apart per account (`KEEP_EVERY_DAYS`): daily history adds seven nearly
identical rows for every weekly one, each account weighs the same whatever its row count
(`scoring.fit.account_weights`), and the features are held as numbers (`FeatureRows`), so the
nightly refit's memory follows accounts x weeks of history, not accounts x days.
"""

from __future__ import annotations

import logging
import math
from array import array
from bisect import bisect_right
from collections.abc import Iterable
from datetime import date, timedelta
from itertools import groupby
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from model.tables import Account, HealthSnapshot, RiskModelVersion
from scoring import lagged
from scoring.alert_fit import fit_high_at_on_training
from scoring.backtest import renewal_outcomes
from scoring.band_fit import fit_bands_from_database
from scoring.config import BandFit
from scoring.feature_rows import AccountDays, FeatureRows
from scoring.fit import FitResult, NotEnoughHistory, TrainingSet, fit_risk, lead_emphasis
from scoring.flag_fit import fit_flags_on_training
from scoring.risk_model import snapshot_features
from scoring.risk_versions import active_model as active_model  # re-exported for callers that fit
from scoring.signals import MEASURE_NAMES
from scoring.store import SNAPSHOT_STREAM_ROWS

log = logging.getLogger(__name__)

EXCLUDED = frozenset({"arr", "days_to_renewal", "open_escalations"})
FEATURES = [*sorted(MEASURE_NAMES - EXCLUDED), "health_score", "trend_28d", *lagged.FEATURES]
KEEP_EVERY_DAYS = 7  # training rows per account at most this often (see the module's docstring)
KIND = "logistic+platt"


def training_from_database(session: Session, horizon_days: int) -> TrainingSet:
    """One row per snapshot with a renewal decided within `horizon_days` after it.

    Nothing made while the snapshots stream outlives it: the rows' values go into arrays
    (`FeatureRows`, `_Columns`), the decisions that label them are dropped with the stream,
    and the training set's lists are made after it. An object made during the stream and
    kept (a key tuple, a boxed weight) lands among the parsed signals the stream frees and
    keeps their memory pages resident through the fit: at 50,000 accounts a refit in a
    process of its own peaked 14 MiB higher so (inside a first sync, whose replay leaves
    freed memory for the read to reuse, no difference was measured)."""
    features, cols = FeatureRows(FEATURES), _Columns()
    decided, lost = _stream(session, horizon_days, features, cols)
    segments = dict(session.execute(select(Account.id, Account.segment)).tuples().all())
    return cols.training_set(features, segments, decided, lost)


def _stream(
    session: Session, horizon_days: int, features: FeatureRows, cols: _Columns
) -> tuple[int, int]:
    """Stream the snapshots into `features` and `cols`; returns the renewal decisions the rows
    are labelled by, and how many of them were lost."""
    outcomes = renewal_outcomes(session)
    rows = session.execute(
        select(
            HealthSnapshot.account_id, HealthSnapshot.as_of, HealthSnapshot.computed_score,
            HealthSnapshot.trend_28d, HealthSnapshot.signals,
        ).order_by(HealthSnapshot.account_id, HealthSnapshot.as_of)
        .execution_options(yield_per=SNAPSHOT_STREAM_ROWS)
    )  # fmt: skip
    decided = lost = 0
    for aid, group in groupby(rows, key=lambda r: r[0]):
        decisions = outcomes.get(aid, [])
        days = [d for d, _, _ in decisions]
        earlier: list[tuple[Any, Any]] = []  # (day, signals) of the account's earlier snapshots
        snapshots = list(group)
        kept = weekly(r[1] for r in snapshots)
        labelled: dict[date, bool] = {}  # the account's decisions its rows are labelled by
        for (_, as_of, score, trend, signals), keep in zip(snapshots, kept, strict=True):
            past = lagged.from_snapshots(earlier, as_of) if keep else None
            earlier.append((as_of, signals))
            if not keep:
                continue
            i = bisect_right(days, as_of)
            if i >= len(days) or days[i] > as_of + timedelta(days=horizon_days):
                continue
            when, lost_it, _ = decisions[i]
            features.append(snapshot_features(score, trend, signals or {}, past))
            cols.add(aid, as_of, lost_it, lead_emphasis((when - as_of).days), score)
            labelled.setdefault(when, lost_it)
        decided += len(labelled)
        lost += sum(labelled.values())
    return decided, lost


class _Columns:
    """A training set's per-row account, day, label, weight and score while it is read."""

    def __init__(self) -> None:
        self.groups, self.days = array("q"), array("l")
        self.labels, self.emphasis, self.scores = array("b"), array("d"), array("d")

    def add(
        self, account: int, day: date, lost: bool, emphasis: float, score: float | None
    ) -> None:
        self.groups.append(account)
        self.days.append(day.toordinal())
        self.labels.append(int(lost))
        self.emphasis.append(emphasis)
        self.scores.append(math.nan if score is None else float(score))

    def training_set(
        self, features: FeatureRows, segments: dict[int, str | None], outcomes: int, lost: int
    ) -> TrainingSet:
        """The set over these arrays (accounts, keys and weights are not copied into lists)."""
        return TrainingSet(
            features=features,
            labels=self.labels.tolist(),
            groups=self.groups,
            segments=[segments.get(g) for g in self.groups],
            keys=AccountDays(self.groups, self.days),
            emphasis=self.emphasis,
            scores=[None if math.isnan(s) else s for s in self.scores],
            outcomes=outcomes,
            lost=lost,
        )


def weekly(days: Iterable[date]) -> list[bool]:
    """Which of an account's snapshot days (ascending) to keep: the first, then each one whose
    skipping would leave more than `KEEP_EVERY_DAYS` days since the last one kept. Daily
    history keeps every seventh day; weekly history (the backfill) keeps every row."""
    ordered = list(days)
    keep = [False] * len(ordered)
    last: date | None = None
    for i, day in enumerate(ordered):
        following = ordered[i + 1] if i + 1 < len(ordered) else None
        if (
            last is None
            or (day - last).days >= KEEP_EVERY_DAYS
            or following is None
            or (following - last).days > KEEP_EVERY_DAYS
        ):
            keep[i], last = True, day
    return keep


def fit_from_database(
    session: Session, horizon_days: int, band_fit: BandFit | None = None
) -> FitResult:
    """Fit on the database's history (raises NotEnoughHistory with the counts); with
    `band_fit`, the band cut-offs and the high-risk threshold are fitted on the same history
    and stored with it."""
    ts = training_from_database(session, horizon_days)
    result = fit_risk(ts, FEATURES, horizon_days=horizon_days, release_features=True)
    if band_fit is not None:
        _fit_for_lead_time(session, ts, result, band_fit)
    return result


def _fit_for_lead_time(
    session: Session, ts: TrainingSet, result: FitResult, config: BandFit
) -> None:
    """Band cut-offs and the high-risk threshold, fitted for lead time and stored with the model:
    red and high together when the scorecard budgets the union flag, else each alone."""
    outcomes = renewal_outcomes(session)
    flags = fit_flags_on_training(ts.keys, result.oof, ts.scores, outcomes, config)
    red = None if flags is None else flags["red_below"]
    result.model.bands = fit_bands_from_database(session, config, red, outcomes)
    if flags is None or result.model.bands is None:
        flags = fit_high_at_on_training(ts.keys, result.oof, outcomes, config)
    result.model.alert = flags
    result.metrics["bands"] = result.model.bands
    result.metrics["alert"] = result.model.alert


def save_model(session: Session, result: FitResult, trained_on: str) -> RiskModelVersion:
    """Store a new version and make it the only active one."""
    session.execute(update(RiskModelVersion).values(active=False))
    row = RiskModelVersion(
        kind=KIND, horizon_days=result.model.horizon_days, trained_on=trained_on[:255],
        samples=result.metrics["rows"], outcomes=result.metrics["outcomes"],
        params=result.model.to_params(), metrics=result.metrics, active=True,
    )  # fmt: skip
    session.add(row)
    session.flush()
    log.info("stored renewal-risk model v%s (%s)", row.id, result.metrics)
    return row


def refit_if_due(
    session: Session,
    horizon_days: int,
    min_new_outcomes: int = 20,
    *,
    band_fit: BandFit | None = None,
) -> int | None:
    """Refit when the history holds `min_new_outcomes` more labelled renewals than the active
    model learned from (or there is no model yet and enough history); returns the new version."""
    current = session.scalar(
        select(func.max(RiskModelVersion.outcomes)).where(RiskModelVersion.active.is_(True))
    )
    ts = training_from_database(session, horizon_days)
    if current is not None and ts.outcomes - current < min_new_outcomes:
        return None
    try:
        result = fit_risk(ts, FEATURES, horizon_days=horizon_days, release_features=True)
    except NotEnoughHistory as exc:
        log.info("renewal-risk refit skipped: %s", exc)
        return None
    if band_fit is not None:
        _fit_for_lead_time(session, ts, result, band_fit)
    return save_model(session, result, "database (refit)").id
