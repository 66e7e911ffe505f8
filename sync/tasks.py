"""Thin Celery tasks: take ids, hold a job lock, call the job, return its stats.

`acks_late` + `reject_on_worker_lost`: a worker killed mid-task leaves the message
unacknowledged, the broker redelivers it, and the rerun — same task id — takes over its own
stale lock. Every job is idempotent (cursors + outbox), so a rerun finishes what was cut.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from celery import shared_task

from sync.locks import LockBusy, local_lock, redis_lock

log = logging.getLogger(__name__)

_runtime: Callable[[], Any] | None = None
_redis: Callable[[], Any] | None = None
_lock_ttl_s = 3600


def configure(
    runtime: Callable[[], Any], redis_client: Callable[[], Any] | None, lock_ttl_s: int
) -> None:
    """Called once by pulsehub.celery_app: how tasks get their runtime and lock store."""
    global _runtime, _redis, _lock_ttl_s
    _runtime, _redis, _lock_ttl_s = runtime, redis_client, lock_ttl_s


@contextmanager
def job_lock(name: str, token: str) -> Iterator[None]:
    if _redis is not None:
        with redis_lock(_redis(), name, token, _lock_ttl_s):
            yield
    else:
        with local_lock(name):
            yield


def _run(name: str, token: str, fn: Callable[[Any], dict[str, Any]]) -> dict[str, Any]:
    if _runtime is None:
        raise RuntimeError("sync.tasks.configure() was not called (use pulsehub.celery_app)")
    try:
        with job_lock(name, token):
            return fn(_runtime())
    except LockBusy:
        log.info("job %s already running; this trigger is skipped", name)
        return {"skipped": "already running"}


OPTS: dict[str, Any] = {"bind": True, "acks_late": True, "reject_on_worker_lost": True}


@shared_task(name="pulsehub.incremental_sync", **OPTS)
def incremental_sync(self: Any) -> dict[str, Any]:
    return _run("sync", self.request.id, lambda rt: rt.sync(kind="sync").stats())


@shared_task(name="pulsehub.full_reconcile", **OPTS)
def full_reconcile(self: Any) -> dict[str, Any]:
    return _run("sync", self.request.id, lambda rt: rt.reconcile().stats())


@shared_task(name="pulsehub.drain_outbox", **OPTS)
def drain_outbox(self: Any) -> dict[str, Any]:
    return _run("drain", self.request.id, lambda rt: rt.drain())


@shared_task(name="pulsehub.weekly_digest", **OPTS)
def weekly_digest(self: Any) -> dict[str, Any]:
    """Each owner's week by email and/or Slack; keyed per owner and week, so sent once."""
    today = dt.datetime.now(dt.UTC).date()
    return _run("digest", self.request.id, lambda rt: rt.digest(today))


@shared_task(name="pulsehub.refresh_account", **OPTS)
def refresh_account(self: Any, account_id: int) -> dict[str, Any]:
    """Near real time: pull recent tickets, rescore, push — triggered by a helpdesk webhook."""
    return _run("sync", self.request.id, lambda rt: rt.refresh(account_id).stats())


# --- the same sync split across workers (PULSEHUB_DISTRIBUTED=true) -----------------------


@shared_task(name="pulsehub.distributed_sync", **OPTS)
def distributed_sync(self: Any, dry_run: bool = False) -> dict[str, Any]:
    """Fan out: one pull per source in parallel, then identity, then scoring by id range (a
    dry run decides and plans in one rolled-back transaction instead)."""
    from celery import chord, group

    from sync import distributed

    def start(rt: Any) -> dict[str, Any]:
        as_of = dt.datetime.now(dt.UTC).date()
        run_id = distributed.start_run(rt.factory, as_of, dry_run=dry_run)
        sources = sorted(rt.connectors)
        chord(
            group(pull_source.si(run_id, s, as_of.isoformat()) for s in sources),
            after_pull.si(run_id, as_of.isoformat(), dry_run),
        ).delay()
        return {"run_id": run_id, "sources": sources}

    return _run("sync", self.request.id, start)


@shared_task(name="pulsehub.pull_source", **OPTS)
def pull_source(self: Any, run_id: int, source: str, as_of: str) -> dict[str, Any]:
    from sync import distributed

    return _run(
        f"pull:{source}",
        self.request.id,
        lambda rt: distributed.pull_source(
            rt.factory, rt.connectors, run_id, source, dt.date.fromisoformat(as_of)
        ),
    )


@shared_task(name="pulsehub.after_pull", **OPTS)
def after_pull(self: Any, run_id: int, as_of: str, dry_run: bool = False) -> dict[str, Any]:
    from celery import chord, group

    from sync import distributed

    day = dt.date.fromisoformat(as_of)

    def step(rt: Any) -> dict[str, Any]:
        from sync import instances

        if dry_run:
            return distributed.decide_dry_run(rt.factory, rt.connectors, rt.job_config, run_id, day)
        named_by = instances.field_sources(rt.connectors.values())
        tasks = distributed.resolve_and_split(
            rt.factory, rt.job_config, run_id, day, field_sources=named_by,
            range_size=rt.settings.score_range_size,
        )  # fmt: skip
        finish = finish_sync.si(run_id, as_of)
        if not tasks:  # nothing changed: no scoring task (a chord needs one)
            finish.delay()
        else:
            chord(
                group(score_range.si(run_id, as_of, lo, hi, ids) for lo, hi, ids in tasks),
                finish,
            ).delay()
        return {"ranges": [(lo, hi) for lo, hi, _ in tasks]}

    return _run(f"resolve:{run_id}", self.request.id, step)


@shared_task(name="pulsehub.score_range", **OPTS)
def score_range(
    self: Any, run_id: int, as_of: str, lo: int, hi: int, ids: list[int] | None = None
) -> dict[str, Any]:
    """One scoring task: the accounts `ids`, or every id in lo..hi (a full pass)."""
    from sync import distributed

    def step(rt: Any) -> dict[str, Any]:
        day = dt.date.fromisoformat(as_of)
        n = distributed.score_range(rt.factory, rt.job_config, run_id, day, lo, hi, ids)
        return {"scored": n}

    return _run(f"score:{lo}-{hi}", self.request.id, step)


@shared_task(name="pulsehub.finish_sync", **OPTS)
def finish_sync(self: Any, run_id: int, as_of: str) -> dict[str, Any]:
    from sync import distributed

    return _run(
        f"finish:{run_id}",
        self.request.id,
        lambda rt: distributed.finish_run(
            rt.factory, rt.connectors, rt.job_config, run_id, dt.date.fromisoformat(as_of)
        ),
    )
