"""Benchmark: incremental scoring and escalation against a full re-score, on PostgreSQL.

For each book size: a sandbox in its own process, a fresh PostgreSQL database, then each
step a `pulsehub sync` process of its own (wall time is the whole process, start-up
included; the step seconds are what the run recorded in `sync_runs.stats`):

  full sync        the first run of the day: pull everything, score everyone
  settle           re-syncs that read back what the first run wrote (until one re-scores
                   nothing, at most 3)
  unchanged        nothing new: incremental, then the same with `--full-score` (before)
  changed          `--fraction` of every record kind changed (the sandbox's change
                   control): incremental, then `--full-score` of the state it left.
                   The step's "rescored" is how many accounts' inputs that touched.

Each `--full-score` step is also a check: it must leave the same results as the incremental
run before it (today's snapshots and every escalation, compared column by column:
bench/same_results.py); its row says `identical` and names what differs.

Run by hand:  .venv/bin/python -m bench incremental --accounts 2000 [10000] [--fraction F]

At 50,000 accounts the first sync takes over an hour, so it can be kept apart from the later
steps (and the later steps re-run on newer code against the same world and database):

  .venv/bin/python -m bench incremental --accounts 50000 --phase first \\
      --sandbox-url http://127.0.0.1:PORT --database bench_incr_50k   # first sync + settle, kept
  .venv/bin/python -m bench incremental --accounts 50000 --phase rest \\
      --sandbox-url http://127.0.0.1:PORT --database bench_incr_50k   # migrate, then the rest

(the rest phase first runs one settling sync on the newer code: a stage that keeps a change
mark the kept database does not have yet does its whole-book pass there, not in the figures)

`--gap SECONDS` waits that long before each step: every change mark re-reads what changed
within its margin (model/marks.py, 60 s) before the last run started, so steps run back to
back re-read each other's changes; hourly runs are an hour apart (`--gap 65` measures them so).

with the sandbox started once by hand:
`pulsehub sandbox serve --port PORT --accounts 50000 --seed 7`. The first sync's pull is
bounded by the Zendesk export budget (100 pages a minute: ~40 minutes at 50,000 accounts);
when the first sync is not what is measured, serve with `--export-per-minute 6000` and pass
the same `--export-per-minute` here (pulsehub paces itself by it).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import subprocess
import sys
import time
import uuid
from typing import Any

from sqlalchemy import create_engine, text

from bench.pipeline import ROOT, _env, _get, _post, sandbox_started, serve_sandbox
from bench.same_results import differences, fingerprint, identical

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def _sync(env: dict[str, str], *flags: str) -> float:
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "pulsehub.cli", "sync", *flags],
        env=env, cwd=str(ROOT), capture_output=True, text=True,
    )  # fmt: skip
    if proc.returncode != 0:
        sys.exit(f"sync failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return time.perf_counter() - started


def _last_run(db_url: str) -> dict[str, Any]:
    """The newest run's step seconds, and how many of the day's snapshots it (re)wrote."""
    engine = create_engine(db_url)
    with engine.connect() as conn:
        started, stats = conn.execute(
            text("SELECT started_at, stats FROM sync_runs ORDER BY id DESC LIMIT 1")
        ).one()
        rescored = conn.execute(
            text("SELECT count(*) FROM health_snapshots WHERE computed_at >= :t"), {"t": started}
        ).scalar_one()
    engine.dispose()
    stats = stats if isinstance(stats, dict) else json.loads(stats or "{}")
    steps = {k: v.get("seconds", v) if isinstance(v, dict) else v
             for k, v in (stats.get("steps") or {}).items()}  # fmt: skip
    incremental = stats.get("incremental") or {}
    rss = {k: v.get("peak_rss_mib") for k, v in (stats.get("steps") or {}).items()
           if isinstance(v, dict)}  # fmt: skip
    return {
        "rescored": int(rescored),
        "judged": incremental.get("judged"),  # accounts whose rules were evaluated (None: all)
        "reason": incremental.get("reason"),
        "digested": incremental.get("digested"),  # digests recomputed (None: all, or before)
        "plan": (incremental.get("plan") or {}).get("reason"),  # whole book, or N accounts
        "steps": steps,
        "peak_rss_mib": rss,  # the process's peak so far at the end of each step
        "voice": stats.get("voice"),  # the voice stage's summary (skipped, rows re-matched)
    }


def next_day(base: str, env: dict[str, str], db_url: str, n: int) -> dict[str, Any]:
    """The world moves on a day; the first sync of that day (scoring as of it) runs; counted:
    the accounts and organizations it really wrote (the sandbox's write log)."""
    moved = _post(f"{base}/_sandbox/advance?days=1")
    _post(f"{base}/_sandbox/advance?seconds=61")  # past the ticket export's lag
    _post(f"{base}/_sandbox/clear")
    as_of = dt.datetime.fromisoformat(moved["now"]).date()
    seconds = _sync(env, "--as-of", as_of.isoformat())
    writes = _get(f"{base}/_sandbox/writes")["writes"]
    accounts = len({w["target_id"] for w in writes if w["kind"] == "account_fields"})
    orgs = len({w["target_id"] for w in writes if w["kind"] == "org_fields"})
    engine = create_engine(db_url)
    with engine.connect() as conn:
        scored = conn.execute(
            text("SELECT count(*) FROM health_snapshots WHERE as_of = :d"), {"d": as_of}
        ).scalar_one()
    engine.dispose()
    row = {"step": f"next day D+{n} ({as_of})", "wall_s": round(seconds, 1),
           **_last_run(db_url), "scored_today": int(scored), "accounts_written": accounts,
           "share_written": round(accounts / max(1, scored), 4), "orgs_written": orgs}  # fmt: skip
    print(json.dumps(row), flush=True)
    return row


def run_size(
    accounts: int,
    fraction: float,
    phase: str = "all",
    sandbox_url: str | None = None,
    database: str | None = None,
    gap: float = 0.0,
    full: bool = True,
    export_per_minute: int = 100,
    days: int = 0,
) -> dict[str, Any]:
    server = None
    if sandbox_url:
        base = sandbox_url.rstrip("/")
    else:
        server, base = serve_sandbox(accounts, export_per_minute=export_per_minute)
    name = database or f"bench_incr_{accounts}_{uuid.uuid4().hex[:6]}"
    keep = database is not None
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    if phase in ("all", "first"):
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    db_url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    out: dict[str, Any] = {"accounts": accounts, "phase": phase}
    try:
        if not sandbox_started(base, 2400):
            sys.exit("sandbox did not start")
        env = _env(base, db_url, export_per_minute)
        subprocess.run(
            [sys.executable, "-m", "pulsehub.cli", "db", "upgrade"],
            env=env, cwd=str(ROOT), check=True, capture_output=True,
        )  # fmt: skip

        def step(label: str, *flags: str) -> dict[str, Any]:
            time.sleep(gap)
            _post(f"{base}/_sandbox/advance?seconds=61")  # past the ticket export's lag
            seconds = _sync(env, *flags)
            row = {"step": label, "wall_s": round(seconds, 1), **_last_run(db_url)}
            print(json.dumps(row), flush=True)
            return row

        def full_step(label: str) -> dict[str, Any]:
            """A `--full-score` run of the state the last (incremental) run left, nothing
            changed between them: it must leave the same results (bench/same_results.py)."""
            before = fingerprint(db_url)
            row = step(label, "--full-score")
            row["same_as_incremental"] = diff = differences(before, fingerprint(db_url))
            row["identical"] = identical(diff)
            print(json.dumps({"step": label, "identical": row["identical"], **diff}), flush=True)
            return row

        if phase in ("all", "first"):
            out["full_sync"] = step("full sync")
            out["settle"] = [step("settle")]
            while out["settle"][-1]["rescored"] and len(out["settle"]) < 3:
                out["settle"].append(step("settle"))
        if phase == "first":
            return out
        if phase == "rest":  # newer code may keep marks the kept database has none of yet:
            out["settle_upgraded"] = step("settle (upgraded code)")  # one run lays them down
        out["unchanged_incremental"] = step("unchanged, incremental")
        if full:
            out["unchanged_full"] = full_step("unchanged, --full-score")
        _post(f"{base}/_sandbox/change?fraction={fraction}&seed=1")
        out["changed_incremental"] = step(f"{fraction:.2%} changed, incremental")
        if full:
            out["changed_full"] = full_step(f"{fraction:.2%} changed, then --full-score")
        out["next_days"] = [next_day(base, env, db_url, n) for n in range(1, days + 1)]
        return out
    finally:
        if server is not None:
            server.terminate()
            server.wait(30)
        if not keep:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench incremental")
    parser.add_argument("--accounts", type=int, nargs="+", default=[2000])
    parser.add_argument(
        "--fraction", type=float, default=0.01,
        help="share of every record kind changed (0.01 touches most accounts: use 0.0001 "
        "for about 1-3%% of the accounts)",
    )  # fmt: skip
    parser.add_argument(
        "--phase", choices=("all", "first", "rest"), default="all",
        help="first: the full sync and settling re-syncs only; rest: the steps after them "
        "(needs --sandbox-url and --database of a kept first phase)",
    )  # fmt: skip
    parser.add_argument("--sandbox-url", help="use a running sandbox instead of starting one")
    parser.add_argument("--database", help="PostgreSQL database name to create/reuse and keep")
    parser.add_argument(
        "--gap", type=float, default=0.0,
        help="seconds to wait before each step (65: past the change marks' 60 s margin)",
    )  # fmt: skip
    parser.add_argument(
        "--no-full", dest="full", action="store_false",
        help="skip the --full-score comparison steps (at 50,000 accounts each is minutes)",
    )  # fmt: skip
    parser.add_argument(
        "--export-per-minute", type=int, default=100,
        help="the sandbox's Zendesk export budget (`sandbox serve --export-per-minute`): "
        "pulsehub is told the same; raise both to build a large book's first phase quickly",
    )  # fmt: skip
    parser.add_argument(
        "--days", type=int, default=0,
        help="after the rest: that many next days, each the world moved on a day and its first "
        "sync (scoring as of it); counts the accounts it writes in Salesforce",
    )  # fmt: skip
    args = parser.parse_args(argv)
    if args.phase != "all" and not (args.sandbox_url and args.database):
        parser.error("--phase first/rest needs --sandbox-url and --database")
    for n in args.accounts:
        result = run_size(
            n, args.fraction, args.phase, args.sandbox_url, args.database, args.gap, args.full,
            args.export_per_minute, args.days,
        )  # fmt: skip
        print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
