"""A real Celery worker on real Redis and PostgreSQL runs the sync against the sandbox.

Shows: a task runs the whole pipeline; two concurrent triggers make one run; a worker
killed mid-task leaves the message unacknowledged and the task completes on redelivery;
beat fires the scheduled job; a distributed run spreads over two workers, and the run after
it re-scores only what changed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from model.db import make_engine, make_session_factory, upgrade
from model.tables import SyncRun
from tests.sync.processes import ROOT, env_of, stop, wait_for

pytestmark = [pytest.mark.redis, pytest.mark.postgres, pytest.mark.slow]


@pytest.fixture
def stack(pg_url, redis_url, tmp_path):
    """Sandbox in this process; env for worker/beat subprocesses pointing at it, PG and Redis."""
    from pulsehub.demo import sandbox_settings
    from sandbox import Sandbox

    upgrade(pg_url)
    broker = redis_url  # the test Redis db (PULSEHUB_TEST_REDIS_URL), flushed before use
    import redis

    redis.Redis.from_url(broker).flushdb()
    with Sandbox(accounts=40, seed=11) as sb:
        settings = sandbox_settings(sb.base_url, pg_url)
        env = {k: v for k, v in os.environ.items() if not k.startswith("PULSEHUB_")}
        env.update(env_of(settings))
        env.update(
            PULSEHUB_BROKER_URL=broker,
            PULSEHUB_LOCK_TTL_S="6",  # also the broker's visibility timeout: fast redelivery
            PYTHONPATH=str(ROOT),
        )
        engine = make_engine(pg_url)
        yield {
            "env": env,
            "factory": make_session_factory(engine),
            "sandbox": sb,
            "tmp": tmp_path,
            "broker": broker,
        }
        engine.dispose()


def _worker(env: dict[str, str], tmp: Path, name: str, concurrency: int = 2) -> subprocess.Popen:
    log = (tmp / f"{name}.log").open("w")
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "pulsehub.celery_app:celery",
            "worker",
            f"--concurrency={concurrency}",
            "--pool=prefork",
            "--loglevel=INFO",
            f"--hostname={name}@%h",
            "--without-gossip",
            "--without-mingle",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=str(ROOT),
        start_new_session=True,
    )


def _runs(factory) -> list[SyncRun]:
    with factory() as s:
        return list(s.execute(select(SyncRun).order_by(SyncRun.id)).scalars())


def _client(env: dict[str, str]):
    from celery import Celery

    return Celery("client", broker=env["PULSEHUB_BROKER_URL"])


def test_task_runs_the_pipeline_and_concurrent_triggers_make_one_run(stack) -> None:
    env, factory, sb = stack["env"], stack["factory"], stack["sandbox"]
    worker = _worker(env, stack["tmp"], "w1")
    try:
        client = _client(env)
        # two triggers at once: the lock lets exactly one of them run the sync
        client.send_task("pulsehub.incremental_sync")
        client.send_task("pulsehub.incremental_sync")
        wait_for(
            lambda: any(r.status == "succeeded" for r in _runs(factory)), 120, "a finished sync"
        )
        time.sleep(3)  # give the second trigger time to be consumed (and skipped)
        runs = _runs(factory)
        assert [r.status for r in runs] == ["succeeded"], runs
        assert sum(runs[0].stats["pulled"].values()) > 0
        assert any(w["system"] == "salesforce" for w in sb.writes)
    finally:
        stop(worker)
    log = (stack["tmp"] / "w1.log").read_text()
    assert "already running" in log or log.count("succeeded in") >= 2


def test_killed_worker_task_completes_on_redelivery(stack) -> None:
    env, factory, sb = stack["env"], stack["factory"], stack["sandbox"]
    sb.faults.add(r"/services/data/.*/query", "slow", times=3)  # hold the first run mid-pull
    worker = _worker(env, stack["tmp"], "victim", concurrency=1)
    client = _client(env)
    client.send_task("pulsehub.incremental_sync")
    wait_for(lambda: len(_runs(factory)) == 1, 60, "the first run to start")
    stop(worker, signal.SIGKILL)  # kill -9: the message stays unacknowledged
    assert _runs(factory)[0].finished_at is None
    # the broker hands an unacknowledged message out again once its visibility timeout
    # (PULSEHUB_LOCK_TTL_S=6 here) has passed; a worker restores such messages when it starts
    time.sleep(7)
    survivor = _worker(env, stack["tmp"], "survivor", concurrency=1)
    try:
        wait_for(
            lambda: any(r.status == "succeeded" for r in _runs(factory)), 120, "the redelivered run"
        )
    finally:
        stop(survivor)
    done = [r for r in _runs(factory) if r.status == "succeeded"]
    assert len(done) == 1


def test_beat_fires_the_scheduled_sync(stack) -> None:
    env, factory = dict(stack["env"]), stack["factory"]
    schedule = stack["tmp"] / "schedule.yaml"
    schedule.write_text(
        "incremental_sync: {every: 10}\ndrain_outbox: {every: 60, enabled: false}\n"
    )
    env["PULSEHUB_SCHEDULE_FILE"] = str(schedule)
    worker = _worker(env, stack["tmp"], "w-beat")
    beat = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "pulsehub.celery_app:celery",
            "beat",
            "--loglevel=INFO",
            f"--schedule={stack['tmp'] / 'beat-schedule'}",
        ],
        env=env,
        stdout=(stack["tmp"] / "beat.log").open("w"),
        stderr=subprocess.STDOUT,
        cwd=str(ROOT),
        start_new_session=True,
    )
    try:
        wait_for(
            lambda: any(r.status == "succeeded" for r in _runs(factory)), 120, "a scheduled run"
        )
    finally:
        stop(beat)
        stop(worker)
    assert _runs(factory)[0].kind == "sync"


def test_distributed_sync_splits_work_across_workers(stack) -> None:
    env, factory, sb = dict(stack["env"]), stack["factory"], stack["sandbox"]
    env["PULSEHUB_DISTRIBUTED"] = "true"
    workers = [_worker(env, stack["tmp"], f"d{i}", concurrency=1) for i in range(2)]

    def finished() -> int:
        return sum(r.status in ("succeeded", "partial") for r in _runs(factory))

    try:
        _client(env).send_task("pulsehub.distributed_sync")
        wait_for(lambda: finished() == 1, 150, "the distributed run")
        # later runs: the second reads back every account the first wrote (a full pass when
        # that is most of the book); the third re-scores only what changed, if anything
        for n in (2, 3):
            sb.tick(120)  # past the exports' one-minute lag
            _client(env).send_task("pulsehub.distributed_sync")
            wait_for(lambda n=n: finished() == n, 150, f"distributed run {n}")
    finally:
        for w in workers:
            stop(w)
    run, _, later = _runs(factory)
    assert later.status == "succeeded", later.stats
    assert run.stats["score_plan"]["full"] and not later.stats["score_plan"]["full"]
    scored = sum(run.stats["bands"].values())
    assert later.stats["incremental"]["rescored"] < scored / 2, later.stats["incremental"]
    assert sum(later.stats["bands"].values()) == scored, "the book's bands, not the re-scored"
    assert run.kind == "sync:distributed" and run.status == "succeeded", run.stats
    assert set(run.stats["pulled"]) >= {
        "salesforce.accounts",
        "zendesk.tickets",
        "usage.daily_usage",
    }
    assert sum(run.stats["bands"].values()) > 0
    assert any(w["kind"] == "account_fields" for w in sb.writes)
    logs = [(stack["tmp"] / f"d{i}.log").read_text() for i in range(2)]
    assert all("pulsehub.pull_source" in log for log in logs), (
        "both workers took a share of the pulls"
    )
