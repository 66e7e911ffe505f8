"""Benchmark: distributed mode (`PULSEHUB_DISTRIBUTED=true`) on PostgreSQL + Redis against the
single-process sync, step by step: which steps get faster with more workers, which do not.

For each mode, a fresh sandbox process (same seed: the same world) and a fresh PostgreSQL
database, then a full first sync, a re-sync (it reads back the accounts the first wrote) and
one more (settled: what changed in the sandbox's minute only), the sandbox clock advanced
past the ticket export's lag before each:

  single        `pulsehub sync` in a child process
  N workers     N real `celery worker` processes (concurrency 1 each) on Redis; the sync is
                triggered the way beat does it, by sending `pulsehub.distributed_sync` through
                the broker, and is done when its run row is closed

Figures are what each run recorded in `sync_runs.stats`: the single run's `steps`; the
distributed run's per-task intervals (`tasks`: pull per source, resolve, score per id range,
finish) and the steps inside resolve and finish. A stage's wall is its first task's start to
its last task's end; "overlaps" lists task pairs whose intervals intersect on different
worker processes. Wall is trigger to closed run (process start-up for single included).

Run by hand:  .venv/bin/python -m bench distributed --accounts 2000 [--workers 1 2]
              [--score-range-size 500] [--redis redis://127.0.0.1:6379/6]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from bench.pipeline import ROOT, _env, _post, sandbox_started, serve_sandbox

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
SINGLE_STEPS = ("pulling", "resolving identities", "scoring", "escalating",
                "planning write-back", "pushing")  # fmt: skip


@contextmanager
def _world(accounts: int) -> Iterator[tuple[str, str]]:
    """A sandbox process and an empty, migrated PostgreSQL database: (sandbox url, db url)."""
    server, base = serve_sandbox(accounts)
    name = f"bench_dist_{accounts}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    db_url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    try:
        if not sandbox_started(base, 2400):
            sys.exit("sandbox did not start")
        subprocess.run(
            [sys.executable, "-m", "pulsehub.cli", "db", "upgrade"],
            env=_env(base, db_url), cwd=str(ROOT), check=True, capture_output=True,
        )  # fmt: skip
        yield base, db_url
    finally:
        server.terminate()
        server.wait(30)
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _runs(db_url: str) -> list[tuple[int, str, dict[str, Any]]]:
    """(id, status, stats) of every run, oldest first."""
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT id, status, stats FROM sync_runs ORDER BY id")).all()
    finally:
        engine.dispose()
    return [(i, s, st if isinstance(st, dict) else json.loads(st or "{}")) for i, s, st in rows]


def _single(env: dict[str, str], db_url: str) -> dict[str, Any]:
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "pulsehub.cli", "sync"],
        env=env, cwd=str(ROOT), capture_output=True, text=True,
    )  # fmt: skip
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        sys.exit(f"sync failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    _, status, stats = _runs(db_url)[-1]
    return {"wall_s": round(wall, 1), "status": status, "stats": stats}


@contextmanager
def _workers(env: dict[str, str], n: int, logs: Path) -> Iterator[list[Path]]:
    """N `celery worker` processes, concurrency 1 each, ready to consume; stopped on exit."""
    procs, paths = [], []
    for i in range(n):
        path = logs / f"worker{i}.log"
        with path.open("w") as out:
            procs.append(subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "pulsehub.celery_app:celery", "worker",
                 "--concurrency=1", "--pool=prefork", "--loglevel=INFO",
                 f"--hostname=bench{i}@%h", "--without-gossip", "--without-mingle"],
                env=env, cwd=str(ROOT), stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True,
            ))  # fmt: skip
        paths.append(path)
    try:
        deadline = time.monotonic() + 120
        while not all("ready." in p.read_text() for p in paths):
            if time.monotonic() > deadline:
                sys.exit(f"workers did not start; see {logs}")
            time.sleep(0.25)
        yield paths
    finally:
        for proc in procs:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                continue
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(10)


def _distributed(env: dict[str, str], db_url: str, timeout_s: float) -> dict[str, Any]:
    """Send the task through the broker as beat does; wait for a new run to close."""
    from celery import Celery

    before = {i for i, _, _ in _runs(db_url)}
    client = Celery("bench", broker=env["PULSEHUB_BROKER_URL"])
    started = time.perf_counter()
    client.send_task("pulsehub.distributed_sync", ignore_result=True)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        new = [r for r in _runs(db_url) if r[0] not in before]
        if new and new[-1][1] in ("succeeded", "partial", "failed"):
            _, status, stats = new[-1]
            return {"wall_s": round(time.perf_counter() - started, 1), "status": status,
                    "stats": stats}  # fmt: skip
        time.sleep(0.25)
    sys.exit("the distributed run did not finish in time")


def _span(tasks: list[dict[str, Any]]) -> float | None:
    if not tasks:
        return None
    return round(max(t["end"] for t in tasks) - min(t["start"] for t in tasks), 2)


def overlaps(tasks: list[dict[str, Any]]) -> list[str]:
    """Pairs of tasks that ran at the same time in different worker processes."""
    out = []
    for i, a in enumerate(tasks):
        for b in tasks[i + 1 :]:
            if a["worker"] != b["worker"] and a["start"] < b["end"] and b["start"] < a["end"]:
                both = min(a["end"], b["end"]) - max(a["start"], b["start"])
                out.append(f"{a['task']} || {b['task']} ({both:.1f} s)")
    return out


def summarize(result: dict[str, Any]) -> dict[str, Any]:
    """One run's figures by step, the same keys for single-process and distributed runs.
    Both replay a first run's history in a "backfilling history" step (the distributed run
    in resolve's task): "backfill + scoring" compares the two."""
    stats = result["stats"]
    steps = {k: (v.get("seconds") if isinstance(v, dict) else v)
             for k, v in (stats.get("steps") or {}).items()}  # fmt: skip
    row: dict[str, Any] = {"wall": result["wall_s"], "run seconds": round(stats["seconds"], 1),
                           "status": result["status"]}  # fmt: skip
    tasks = stats.get("tasks")
    if tasks is None:  # the single-process run
        row["accounts re-scored"] = (stats.get("incremental") or {}).get("rescored", "all")
        row["pulling"] = steps.get("pulling")
        row["resolving identities"] = steps.get("resolving identities")
        backfill = steps.get("backfilling history") or 0.0
        row["backfill + scoring"] = round(backfill + (steps.get("scoring") or 0.0), 2)
        row.update({name: steps.get(name) for name in SINGLE_STEPS[3:]})
        return row
    pulls = sorted((t for t in tasks if t["task"].startswith("pull:")), key=lambda t: t["task"])
    scores = [t for t in tasks if t["task"].startswith("score:")]
    row["pulling"] = _span(pulls)
    for t in pulls:
        row[t["task"]] = round(t["end"] - t["start"], 2)
    row["resolving identities"] = steps.get("resolving identities")
    backfill = steps.get("backfilling history") or 0.0
    row["backfilling history"] = backfill
    row["scoring"] = _span(scores)
    row["backfill + scoring"] = round(backfill + (_span(scores) or 0.0), 2)
    row["score tasks"] = len(scores)
    row["accounts re-scored"] = (stats.get("incremental") or {}).get("rescored", "all")
    for t in scores:
        row[t["task"]] = round(t["end"] - t["start"], 2)
    row["planning scoring"] = steps.get("planning scoring")
    row["rolling up parents"] = steps.get("rolling up parents")
    row.update({name: steps.get(name) for name in SINGLE_STEPS[3:]})
    row["finish task"] = _span([t for t in tasks if t["task"] == "finish"])
    row["worker processes used"] = len({t["worker"] for t in tasks})
    row["overlaps"] = overlaps(tasks)
    return row


def _table(title: str, columns: dict[str, dict[str, Any]]) -> str:
    keys: list[str] = []
    for col in columns.values():
        keys += [k for k in col if k not in keys and k != "overlaps"]
    lines = [f"{title}", "| step | " + " | ".join(columns) + " |",
             "|---|" + "---:|" * len(columns)]  # fmt: skip
    for key in keys:
        cells = ["—" if col.get(key) is None else str(col[key]) for col in columns.values()]
        lines.append(f"| {key} | " + " | ".join(cells) + " |")
    for name, col in columns.items():
        for pair in col.get("overlaps") or []:
            lines.append(f"  {name}: {pair}")
    return "\n".join(lines)


def run(accounts: int, workers: list[int], redis_url: str, range_size: int | None) -> None:
    import redis

    full: dict[str, dict[str, Any]] = {}
    unchanged: dict[str, dict[str, Any]] = {}
    settled: dict[str, dict[str, Any]] = {}
    with _world(accounts) as (base, db_url):
        env = _env(base, db_url)
        full["single"] = summarize(_single(env, db_url))
        _post(f"{base}/_sandbox/advance?seconds=61")  # past the ticket export's lag
        unchanged["single"] = summarize(_single(env, db_url))
        _post(f"{base}/_sandbox/advance?seconds=61")
        settled["single"] = summarize(_single(env, db_url))
        runs = [full["single"], unchanged["single"], settled["single"]]
        print(json.dumps({"single": runs}), flush=True)
    for n in workers:
        label = f"{n} worker{'s' if n > 1 else ''}"
        redis.Redis.from_url(redis_url).flushdb()
        with _world(accounts) as (base, db_url), tempfile.TemporaryDirectory() as logs:
            env = _env(base, db_url)
            env.update(PULSEHUB_DISTRIBUTED="true", PULSEHUB_BROKER_URL=redis_url)
            if range_size:
                env["PULSEHUB_SCORE_RANGE_SIZE"] = str(range_size)
            with _workers(env, n, Path(logs)):
                full[label] = summarize(_distributed(env, db_url, 3600))
                _post(f"{base}/_sandbox/advance?seconds=61")
                unchanged[label] = summarize(_distributed(env, db_url, 3600))
                _post(f"{base}/_sandbox/advance?seconds=61")
                settled[label] = summarize(_distributed(env, db_url, 3600))
        print(json.dumps({label: [full[label], unchanged[label], settled[label]]}), flush=True)
    print(_table(f"\nfull first sync, {accounts:,} accounts (seconds)", full))
    print(_table(f"\nre-sync right after (reads back what the first wrote), {accounts:,} "
                 "accounts (seconds)", unchanged))  # fmt: skip
    print(_table(f"\nthe run after that (settled), {accounts:,} accounts (seconds)", settled))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench distributed")
    parser.add_argument("--accounts", type=int, default=2000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/6",
                        help="broker and result backend (flushed before each mode)")  # fmt: skip
    parser.add_argument("--score-range-size", type=int,
                        help="PULSEHUB_SCORE_RANGE_SIZE for the workers (default: the setting's)")  # fmt: skip
    args = parser.parse_args(argv)
    run(args.accounts, args.workers, args.redis, args.score_range_size)


if __name__ == "__main__":
    main()
