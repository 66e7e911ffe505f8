"""Benchmark: the whole pipeline (pull + resolve + score + escalate + write back) at scale,
and API-call efficiency for a full sync, an unchanged re-sync and a one-day incremental.

The sandbox runs in its own process (`pulsehub sandbox serve`), each sync in another
(`pulsehub sync`), so wall time and peak RSS are the pipeline's own.

Run by hand:  .venv/bin/python -m bench pipeline --accounts 1000 10000 [--db-dir DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PAGE = {"salesforce": 2000, "zendesk_export": 1000, "usage": 1000}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=60) as r:
        return json.loads(r.read())


def sandbox_started(base: str, tries: int) -> bool:
    """Wait for a sandbox process to answer, polling every quarter second `tries` times."""
    for _ in range(tries):
        try:
            _get(f"{base}/_sandbox/counts")
            return True
        except OSError:
            time.sleep(0.25)
    return False


def serve_sandbox(
    accounts: int, seed: int = 7, export_per_minute: int = 100
) -> tuple[subprocess.Popen[bytes], str]:
    """`pulsehub sandbox serve` in a child process on a free port: (process, its base URL).
    Wait for it with `sandbox_started`; terminate it when done."""
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "pulsehub.cli", "sandbox", "serve", "--port", str(port),
         "--accounts", str(accounts), "--seed", str(seed),
         "--export-per-minute", str(export_per_minute)],
        cwd=str(ROOT), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    return server, f"http://127.0.0.1:{port}"


def _post(url: str) -> Any:
    req = urllib.request.Request(url, data=b"{}", method="POST")
    with urllib.request.urlopen(req, timeout=300) as r:
        return json.loads(r.read() or b"{}")


def _env(base: str, db_url: str, export_per_minute: int = 100) -> dict[str, str]:
    from sandbox import credentials as cred

    env = {k: v for k, v in os.environ.items() if not k.startswith("PULSEHUB_")}
    env.update(
        PYTHONPATH=str(ROOT),
        PULSEHUB_DATABASE_URL=db_url,
        PULSEHUB_SALESFORCE__INSTANCE_URL="https://bench.my.salesforce.com",
        PULSEHUB_SALESFORCE__SESSION_ID=cred.SF_SESSION_ID,
        PULSEHUB_SALESFORCE__LOOPBACK_URL=base,
        PULSEHUB_ZENDESK__SUBDOMAIN=cred.ZD_SUBDOMAIN,
        PULSEHUB_ZENDESK__EMAIL=cred.ZD_EMAIL,
        PULSEHUB_ZENDESK__TOKEN=cred.ZD_API_TOKEN,
        PULSEHUB_ZENDESK__LOOPBACK_URL=base,
        # the sandbox allows 100 incremental exports a minute; real Zendesk 10 (30 high-volume),
        # where a first sync of N tickets spends about N / 10,000 minutes waiting on that limit
        PULSEHUB_ZENDESK__EXPORT_REQUESTS_PER_MINUTE=str(export_per_minute),
        PULSEHUB_USAGE__BASE_URL=base,
        PULSEHUB_USAGE__TOKEN=cred.USAGE_BEARER_TOKEN,
    )
    return env


def _sync(env: dict[str, str]) -> tuple[float, int]:
    """One `pulsehub sync` in a child process: (seconds, peak RSS in MiB of that child)."""
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "pulsehub.cli", "sync"],
        env=env,
        cwd=str(ROOT),
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        sys.exit(f"sync failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024
    return seconds, rss


def _requests(base: str) -> dict[str, int]:
    counts = _get(f"{base}/_sandbox/counts")["endpoints"]
    return {k: int(v) for k, v in counts.items() if not k.split(" ", 1)[1].startswith("/_sandbox")}


def _split(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    """Requests made between two snapshots: reads, writes, and job-status polls."""
    out = {"reads": 0, "writes": 0, "job_polls": 0}
    for key, n in after.items():
        delta = n - before.get(key, 0)
        method, path = key.split(" ", 1)
        if "job_statuses" in path:
            out["job_polls"] += delta
        elif (method == "GET" and "tickets.json" not in path) or path.endswith("/composite"):
            # external_id lookups are writes' cost; a Salesforce Composite carries queries
            out["reads"] += delta
        else:
            out["writes"] += delta
    return out


def _db_counts(db_path: Path) -> dict[str, int]:
    """Rows the full sync stored, per stream (what a minimal client would have had to page)."""
    import sqlite3

    con = sqlite3.connect(db_path)
    q = {
        "accounts": "SELECT count(*) FROM accounts",
        "opportunities": "SELECT count(*) FROM opportunities",
        "contacts": "SELECT count(*) FROM contacts",
        "organizations": "SELECT count(*) FROM external_identities WHERE source='zendesk'",
        "workspaces": "SELECT count(*) FROM external_identities WHERE source='usage'",
        "tickets": "SELECT count(*) FROM tickets",
        "satisfaction_ratings": "SELECT count(*) FROM tickets WHERE csat IS NOT NULL",
        "usage_days": "SELECT count(*) FROM usage_daily",
        "surveys": "SELECT count(*) FROM survey_responses",
        "users": "SELECT count(*) FROM app_users",
    }
    out = {k: int(con.execute(sql).fetchone()[0]) for k, sql in q.items()}
    con.close()
    return out


def _last_run_steps(db_path: Path) -> dict[str, Any]:
    """Seconds and peak RSS per step of the newest run, as the run recorded them."""
    import sqlite3

    con = sqlite3.connect(db_path)
    row = con.execute("SELECT stats FROM sync_runs ORDER BY id DESC LIMIT 1").fetchone()
    con.close()
    return dict(json.loads(row[0]).get("steps") or {}) if row and row[0] else {}


def _minimum_full(records: dict[str, int]) -> int:
    """ceil(records / page size) per stream, the least any client could do."""

    def pages(n: int, size: int) -> int:
        return max(1, -(-n // size))

    sf = sum(
        pages(records.get(k, 0), PAGE["salesforce"])
        for k in ("accounts", "opportunities", "contacts")
    )
    # metrics (include=metric_sets) and CSAT (each ticket's satisfaction_rating) ride along
    zd = pages(records.get("tickets", 0), PAGE["zendesk_export"])
    zd += pages(records.get("organizations", 0), PAGE["zendesk_export"])
    usage = pages(records.get("workspaces", 0), PAGE["usage"]) + pages(
        records.get("usage_days", 0), PAGE["usage"]
    )
    return sf + zd + usage


def run_size(accounts: int, db_dir: Path) -> dict[str, Any]:
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    t0 = time.perf_counter()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pulsehub.cli",
            "sandbox",
            "serve",
            "--port",
            str(port),
            "--accounts",
            str(accounts),
            "--seed",
            "7",
        ],
        cwd=str(ROOT),
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        if not sandbox_started(base, 1200):
            sys.exit("sandbox did not start")
        generated = time.perf_counter() - t0
        db_path = db_dir / f"bench-{accounts}.db"
        db_path.unlink(missing_ok=True)
        db_url = f"sqlite:///{db_path}"
        subprocess.run(
            [sys.executable, "-m", "pulsehub.cli", "db", "upgrade"],
            env=_env(base, db_url),
            cwd=str(ROOT),
            check=True,
            capture_output=True,
        )
        env = _env(base, db_url)
        snap = _requests(base)
        full_s, full_rss = _sync(env)
        full_split = _split(snap, _requests(base))
        full_req = sum(full_split.values())
        records = _db_counts(db_path)
        steps = _last_run_steps(db_path)
        full = {"accounts": accounts, "full_sync_s": round(full_s, 1), "peak_rss_mib": full_rss}
        # printed as soon as known: a long run stopped during its re-syncs still has these
        print(
            json.dumps({**full, "records": records, "split": full_split, "steps": steps}),
            flush=True,
        )
        before = sum(_requests(base).values())
        again_s, _ = _sync(env)
        again_req = sum(_requests(base).values()) - before
        _post(f"{base}/_sandbox/advance?days=1")
        before = sum(_requests(base).values())
        incr_s, _ = _sync(env)
        incr_req = sum(_requests(base).values()) - before
        stored = sum(records.values()) - records["satisfaction_ratings"]
        return {
            "accounts": accounts,
            "records": records,
            "generate_s": round(generated, 1),
            "full_sync_s": round(full_s, 1),
            "records_per_s": round(stored / full_s),
            "peak_rss_mib": full_rss,
            "full_requests": full_req,
            "full_split": full_split,
            "full_pull_minimum": _minimum_full(records),
            "full_steps": steps,
            "unchanged_resync_s": round(again_s, 1),
            "unchanged_requests": again_req,
            "one_day_incremental_s": round(incr_s, 1),
            "one_day_requests": incr_req,
        }
    finally:
        server.terminate()
        server.wait(30)


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench pipeline")
    parser.add_argument("--accounts", type=int, nargs="+", default=[1000])
    parser.add_argument("--db-dir", type=Path, default=None)
    args = parser.parse_args(argv)
    db_dir = args.db_dir or Path(tempfile.mkdtemp(prefix="pulsehub-bench-"))
    rows = [run_size(n, db_dir) for n in args.accounts]
    print(
        "| accounts | records | generate | full sync | records/s | peak RSS | requests: reads (min) / writes / job polls "
        "| unchanged re-sync | one-day incremental |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        total = sum(r["records"].values()) - r["records"]["satisfaction_ratings"]
        print(
            f"| {r['accounts']:,} | {total:,} | {r['generate_s']}s | {r['full_sync_s']}s | "
            f"{r['records_per_s']:,} | {r['peak_rss_mib']} MiB | {r['full_split']['reads']} "
            f"({r['full_pull_minimum']}) / {r['full_split']['writes']} / {r['full_split']['job_polls']} | "
            f"{r['unchanged_resync_s']}s, {r['unchanged_requests']} req | "
            f"{r['one_day_incremental_s']}s, {r['one_day_requests']} req |"
        )
    print(json.dumps(rows, indent=2, default=str))
