"""The sync split into stages that separate workers can run in parallel.

    start_run ─┬─ pull_source(salesforce) ─┐
               ├─ pull_source(zendesk)    ─┼─ resolve ─┬─ score_range(ids 1..N)   ─┐
               └─ pull_source(usage)      ─┘           ├─ score_range(ids N+1..2N) ─┼─ finish_run
                                                        └─ ...                      ─┘
Sources are independent, so they pull in parallel; the streams of one source stay in
order (ticket metrics update tickets already stored). Scoring is split by account-id
range. Every stage merges its figures into the one SyncRun row under a row lock.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from model.db import transaction
from model.identity import resolve_identities
from model.tables import Account, SyncRun, utcnow
from sync import outbox, runs
from sync.jobs import JobConfig, make_steps
from sync.pipeline import DEFAULT_HISTORY_DAYS, STREAM_ORDER, RunReport, _pull_all
from sync.writeback import plan_chunks

SCORE_RANGE_SIZE = 5000


def start_run(factory: sessionmaker[Session], as_of: dt.date) -> int:
    return runs.start_run(
        factory, "sync:distributed", local=False, stats={"as_of": as_of.isoformat()}
    )


def _merge(
    factory: sessionmaker[Session], run_id: int, part: dict[str, Any], stage: str = "pulling"
) -> None:
    """Fold one stage's figures into the run's stats (row-locked: stages finish concurrently)."""
    with transaction(factory) as session:
        run = session.execute(
            select(SyncRun).where(SyncRun.id == run_id).with_for_update()
        ).scalar_one()
        stats = dict(run.stats or {})
        for key, value in part.items():
            if isinstance(value, dict):
                stats[key] = {**(stats.get(key) or {}), **value}
            elif isinstance(value, list):
                stats[key] = [*(stats.get(key) or []), *value]
            else:
                stats[key] = value
        stats["progress"] = runs.progress(stage, utcnow(), local=False)
        run.stats = stats


def pull_source(
    factory: sessionmaker[Session],
    connectors: dict[str, Any],
    run_id: int,
    source: str,
    as_of: dt.date,
) -> dict[str, Any]:
    """Pull every stream of one source, in order."""
    report = RunReport(run_id=run_id, dry_run=False)
    start = dt.datetime.combine(as_of, dt.time(), dt.UTC) - dt.timedelta(days=DEFAULT_HISTORY_DAYS)
    streams = [(s, st) for s, st in STREAM_ORDER if s == source]
    before = int(getattr(connectors.get(source), "calls", 0) or 0)
    _pull_all(
        factory,
        connectors,
        streams,
        run_id,
        report,
        fresh=set(),
        start=start,
        progress=lambda step, n: None,
    )
    calls = int(getattr(connectors.get(source), "calls", 0) or 0) - before
    part = {
        "pulled": report.pulled,
        "quarantined": report.quarantined,
        "errors": report.errors,
        "api_calls": {source: calls},
    }
    _merge(factory, run_id, part)
    return part


def resolve_and_split(factory: sessionmaker[Session], run_id: int) -> list[tuple[int, int]]:
    """Link identities, then cut the account ids into ranges for parallel scoring."""
    with transaction(factory) as session:
        identity = resolve_identities(session)
        lo, hi = session.execute(select(func.min(Account.id), func.max(Account.id))).one()
    _merge(factory, run_id, {"identity": identity}, "scoring")
    if lo is None:
        return []
    return [(a, min(a + SCORE_RANGE_SIZE - 1, hi)) for a in range(lo, hi + 1, SCORE_RANGE_SIZE)]


def score_range(
    factory: sessionmaker[Session], config: JobConfig, run_id: int, as_of: dt.date, lo: int, hi: int
) -> dict[str, int]:
    from scoring.service import score_accounts

    with transaction(factory) as session:
        ids = list(session.execute(select(Account.id).where(Account.id.between(lo, hi))).scalars())
        snaps = score_accounts(session, as_of, config.scorecard, ids) if ids else []
        bands: dict[str, int] = {}
        for s in snaps:
            bands[s.band] = bands.get(s.band, 0) + 1
    with transaction(factory) as session:
        run = session.execute(
            select(SyncRun).where(SyncRun.id == run_id).with_for_update()
        ).scalar_one()
        stats = dict(run.stats or {})
        total = dict(stats.get("bands") or {})
        for band, n in bands.items():
            total[band] = total.get(band, 0) + n
        run.stats = {**stats, "bands": total}
    return bands


def finish_run(
    factory: sessionmaker[Session],
    connectors: dict[str, Any],
    config: JobConfig,
    run_id: int,
    as_of: dt.date,
) -> dict[str, Any]:
    """Escalate, plan, enqueue and push; close the run."""
    steps = make_steps(connectors, config)
    creates: list[outbox.CreateRequest] = []
    escalations: dict[str, int] = {}
    if steps.escalate is not None:
        with transaction(factory) as session:  # rows and their creations commit together
            escalations, creates = steps.escalate(session, as_of)
            outbox.enqueue_creates(session, creates)
    with transaction(factory) as session:
        chunks = plan_chunks(
            session, steps.write_targets, steps.writeback_policy, band=steps.deadband
        )
        planned = outbox.enqueue_chunks(session, chunks, sweep=True).planned
    pushed = steps.push(factory) if steps.push is not None else {}
    part = {"escalations": escalations, "planned": planned, "pushed": pushed}
    _merge(factory, run_id, part, "pushing")
    with transaction(factory) as session:
        run = session.get(SyncRun, run_id)
        assert run is not None
        errors = (run.stats or {}).get("errors") or []
        run.status = "partial" if errors else "succeeded"
        run.finished_at = utcnow()
        run.stats = {**(run.stats or {}), "seconds": (utcnow() - run.started_at).total_seconds()}
        return dict(run.stats)
