"""Benchmark: the stages after scoring that follow change (onboarding and handoffs; renewal
reviews, RCAs, access reviews), on a kept PostgreSQL database of a bench world.

Two measurements, run by hand against the database `bench incremental --phase first` kept
(and its running sandbox):

  runs     `pulsehub sync` processes: a warm-up (the first run of new code has no change
           mark yet: it looks at the whole book), one unchanged, then one after `--fraction`
           of every record kind changed in the sandbox; prints each run's wall time and the
           two stages' seconds and peak RSS (high-water mark) from `sync_runs.stats`.
  memory   each stage over the whole book in a fresh process (its change mark ignored,
           everything rolled back): seconds and how much the process's peak RSS rose.

  .venv/bin/python -m bench ops_stages runs --sandbox-url http://127.0.0.1:PORT \\
      --database bench_incr_2000 [--fraction 0.0001]
  .venv/bin/python -m bench ops_stages memory --database bench_incr_2000

Run from another checkout (`PYTHONPATH` and working directory there) to measure that code on
the same database; `memory` only reads and rolls back.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from typing import Any

from bench.incremental import _last_run, _sync
from bench.pipeline import ROOT, _env, _post

STAGES = ("onboarding and handoffs", "renewal reviews, RCAs, access reviews")


def _stats(db_url: str) -> dict[str, Any]:
    from sqlalchemy import create_engine, text

    engine = create_engine(db_url)
    with engine.connect() as conn:
        stats = conn.execute(text("SELECT stats FROM sync_runs ORDER BY id DESC LIMIT 1")).scalar()
    engine.dispose()
    stats = stats if isinstance(stats, dict) else json.loads(stats or "{}")
    return {
        "steps": {k: v for k, v in (stats.get("steps") or {}).items() if k in STAGES},
        "operations": stats.get("operations"),
        "reviews": stats.get("reviews"),
    }


def runs(base: str, db_url: str, fraction: float) -> None:
    env = _env(base, db_url)
    subprocess.run(
        [sys.executable, "-m", "pulsehub.cli", "db", "upgrade"],
        env=env, cwd=str(ROOT), check=True, capture_output=True,
    )  # fmt: skip
    for label in ("warm-up (marks set)", "unchanged", f"{fraction:.2%} changed"):
        if label.endswith("changed"):
            _post(f"{base}/_sandbox/change?fraction={fraction}&seed={int(time.time())}")
        _post(f"{base}/_sandbox/advance?seconds=61")  # past the ticket export's lag
        wall = _sync(env)
        row = {"run": label, "wall_s": round(wall, 1), **_stats(db_url)}
        row["scored"] = _last_run(db_url)["rescored"]
        print(json.dumps(row), flush=True)


def memory(database: str) -> None:
    """Each stage in a fresh process of its own (its peak RSS rise is its own)."""
    for only in STAGES:
        subprocess.run(
            [sys.executable, "-m", "bench", "ops_stages", "memory", "--database", database,
             "--only", only],
            check=True,
        )  # fmt: skip


def memory_of(db_url: str, only: str) -> None:
    """One stage over the whole book, in this fresh process, rolled back."""
    from sqlalchemy import delete

    from csops.config import load_csops
    from escalation.operations import load_operations
    from model.db import make_engine, make_session_factory
    from model.tables import SyncCursor, utcnow
    from sync.escalate import EscalationSystems
    from sync.operations import run_operations

    factory = make_session_factory(make_engine(db_url))
    systems = EscalationSystems({"crm": "salesforce", "helpdesk": "zendesk"})
    now = utcnow()
    calls = {
        STAGES[0]: lambda s: run_operations(s, now.date(), load_csops(), systems),
        STAGES[1]: lambda s: _reviews(s, now, load_operations(None), systems),
    }
    for name, call in calls.items():
        if name != only:
            continue
        with factory() as session:
            session.execute(delete(SyncCursor).where(SyncCursor.stream.like("%:mark")))
            before = _peak_mib()
            started = time.perf_counter()
            _, requests = call(session)
            session.flush()
            took = time.perf_counter() - started
            row = {"stage": name, "whole_book_s": round(took, 2),
                   "peak_rss_rise_mib": round(_peak_mib() - before, 1),
                   "peak_rss_mib": _peak_mib(), "tasks": len(requests)}  # fmt: skip
            print(json.dumps(row), flush=True)
            session.rollback()


def _reviews(session: Any, now: Any, config: Any, systems: Any) -> tuple[dict[str, int], list[Any]]:
    """The reviews stage's counts and every creation it handed over (held, as measured)."""
    from sync.reviews import run_reviews

    requests: list[Any] = []
    return run_reviews(session, now, config, systems, requests.extend), requests


def _peak_mib() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench ops_stages")
    parser.add_argument("what", choices=("runs", "memory"))
    parser.add_argument("--database", required=True, help="a kept PostgreSQL bench database")
    parser.add_argument("--sandbox-url", help="the running sandbox of that world (runs)")
    parser.add_argument("--fraction", type=float, default=0.0001)
    parser.add_argument("--only", choices=STAGES, help=argparse.SUPPRESS)  # memory: one stage
    args = parser.parse_args(argv)
    db_url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{args.database}"
    if args.what == "runs":
        if not args.sandbox_url:
            parser.error("runs needs --sandbox-url")
        runs(args.sandbox_url.rstrip("/"), db_url, args.fraction)
    elif args.only:
        memory_of(db_url, args.only)
    else:
        memory(args.database)


if __name__ == "__main__":
    main()
