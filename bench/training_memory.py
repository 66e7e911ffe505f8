"""Benchmark: the nightly refit's cost on weekly and on daily history.

Takes a world kept by `bench honest_score --keep DIR` (weekly snapshots, SQLite), copies it,
and for the daily case fills each week with six more snapshots (the week's row repeated on
the following days, as a book synced daily would store, give or take the day's drift), then
runs `pulsehub score fit` as a process of its own on each copy: wall time and peak RSS.

Run by hand:
  .venv/bin/python -m bench honest_score --seeds 1 --accounts 1000 --keep /tmp/w --build-only
  .venv/bin/python -m bench training_memory --world /tmp/w/seed1.db [--root OTHER_CHECKOUT]

`--root` runs the fit from another checkout (the code before a change) on the same copies.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.pipeline import ROOT

COLUMNS = (
    "account_id, score, band, profile, coverage, trend_28d, sharp_drop, reasons, signals, "
    "contradictions, renewal_risk, risk_level, risk_drivers, computed_score, computed_band, "
    "override_id, computed_at, inputs_digest"
)


def densify(path: Path) -> int:
    """Six more snapshots after each weekly one (skipping days that already have one)."""
    with sqlite3.connect(path) as conn:
        for offset in range(1, 7):
            conn.execute(
                f"INSERT OR IGNORE INTO health_snapshots (as_of, {COLUMNS}) "
                f"SELECT date(as_of, '+{offset} days'), {COLUMNS} FROM health_snapshots h "
                "WHERE strftime('%w', as_of) = (SELECT strftime('%w', min(as_of)) "
                "FROM health_snapshots)"
            )
        (rows,) = conn.execute("SELECT count(*) FROM health_snapshots").fetchone()
    return int(rows)


def fit(db: Path, root: Path) -> dict[str, float]:
    env = {**os.environ, "PULSEHUB_DATABASE_URL": f"sqlite:///{db}"}
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "pulsehub.cli", "score", "fit", "--json"],
        env=env, cwd=str(root), capture_output=True, text=True,
    )  # fmt: skip
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        sys.exit(f"score fit failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    out = json.loads(proc.stdout[proc.stdout.index("{") :])
    metrics = out.get("metrics", out)
    return {
        "seconds": round(seconds, 1),
        # ru_maxrss of children is the largest child so far: run the larger case last
        "peak_rss_mib": round(max(peak, before) / 1024, 1),
        "rows": metrics.get("rows"),
        "cv_auc": metrics.get("cv_auc"),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench training_memory")
    parser.add_argument("--world", type=Path, required=True, help="a kept honest_score world")
    parser.add_argument("--root", type=Path, default=ROOT, help="checkout whose code fits")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        weekly, daily = Path(tmp) / "weekly.db", Path(tmp) / "daily.db"
        shutil.copy(args.world, weekly)
        shutil.copy(args.world, daily)
        rows = densify(daily)
        for label, db in (("weekly history", weekly), (f"daily history ({rows} snapshots)", daily)):
            print(json.dumps({"case": label, **fit(db, args.root)}), flush=True)


if __name__ == "__main__":
    main()
