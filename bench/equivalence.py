"""Benchmark: does a refactor leave what pulsehub does to Salesforce and Zendesk unchanged?

One fixed scenario against a sandbox in its own process, each step a pulsehub process of its
own: a dry run, a full sync, 1% of every record kind changed then a sync, a day later a
sync, the nightly reconcile, and one account's near-real-time refresh. After each step it
records the requests per endpoint (from the sandbox's request log) and every write the
sandbox applied (its write log: system, kind, target, changed fields). Run it on two
commits and compare:

    .venv/bin/python -m bench equivalence --out /tmp/before.json           # old checkout
    .venv/bin/python -m bench equivalence --out /tmp/after.json            # new checkout
    .venv/bin/python -m bench equivalence --compare /tmp/before.json /tmp/after.json

The sandbox runs on a fixed clock (today at 06:00 UTC unless `--clock` says otherwise), so
two runs an hour apart see the same world; both must still run on the same calendar day,
since a sync scores as of today.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.pipeline import ROOT, _env, _free_port, _get, _post

# write fields whose value is the moment of the write, not a decision
VOLATILE = {"Pulsehub_Synced_At__c", "pulsehub_synced_at", "synced_at"}


class Sandbox:
    """A sandbox process on a fixed clock and an empty, migrated SQLite database."""

    def __init__(self, accounts: int, seed: int, clock: str, db_dir: Path) -> None:
        self.seed = seed
        self.base = f"http://127.0.0.1:{_free_port()}"
        self.env = _env(self.base, f"sqlite:///{db_dir / 'equivalence.db'}")
        port = self.base.rsplit(":", 1)[1]
        self.server = subprocess.Popen(
            [sys.executable, "-m", "pulsehub.cli", "sandbox", "serve", "--port", port,
             "--accounts", str(accounts), "--seed", str(seed), "--clock", clock],
            cwd=str(ROOT), env={**os.environ, "PYTHONPATH": str(ROOT)},
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        for _ in range(2400):
            try:
                _get(f"{self.base}/_sandbox/counts")
                break
            except OSError:
                time.sleep(0.25)
        else:
            sys.exit("sandbox did not start")
        subprocess.run(
            [sys.executable, "-m", "pulsehub.cli", "db", "upgrade"],
            env=self.env, cwd=str(ROOT), check=True, capture_output=True,
        )  # fmt: skip

    def change(self, fraction: float) -> None:
        _post(f"{self.base}/_sandbox/change?fraction={fraction}&seed={self.seed}")

    def close(self) -> None:
        self.server.terminate()
        self.server.wait(30)


def _step(run: Sandbox, label: str, argv: list[str]) -> dict[str, Any]:
    _post(f"{run.base}/_sandbox/advance?seconds=61")  # past Zendesk's export lag
    _post(f"{run.base}/_sandbox/clear")
    proc = subprocess.run(
        [sys.executable, *argv], env=run.env, cwd=str(ROOT), capture_output=True, text=True
    )
    if proc.returncode != 0:
        sys.exit(f"{label} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    counts = _get(f"{run.base}/_sandbox/counts")["endpoints"]
    requests = {k: n for k, n in sorted(counts.items()) if " /_sandbox" not in k}
    writes = sorted(
        (
            {
                "system": w["system"],
                "kind": w["kind"],
                "target": str(w["target_id"]),
                "changes": {k: v for k, v in w["changes"].items() if k not in VOLATILE},
            }
            for w in _get(f"{run.base}/_sandbox/writes")["writes"]
        ),
        key=lambda w: json.dumps(w, sort_keys=True, default=str),
    )
    print(f"{label:<14} {sum(requests.values()):>6} requests {len(writes):>6} writes", flush=True)
    return {"label": label, "requests": requests, "writes": writes}


def scenario(accounts: int, seed: int, clock: str, db_dir: Path) -> list[dict[str, Any]]:
    run = Sandbox(accounts, seed, clock, db_dir)
    cli = ["-m", "pulsehub.cli"]
    in_runtime = (
        "from pulsehub.runtime import Runtime; from pulsehub.settings import get_settings; "
    )
    try:
        steps = [_step(run, "dry run", [*cli, "sync", "--dry-run"])]
        steps.append(_step(run, "full sync", [*cli, "sync"]))
        run.change(0.01)
        steps.append(_step(run, "1% changed", [*cli, "sync"]))
        _post(f"{run.base}/_sandbox/advance?days=1")
        steps.append(_step(run, "next day", [*cli, "sync"]))
        code = in_runtime + "Runtime(get_settings()).reconcile()"
        steps.append(_step(run, "reconcile", ["-c", code]))
        code = in_runtime + "Runtime(get_settings()).refresh(1)"
        steps.append(_step(run, "refresh", ["-c", code]))
    finally:
        run.close()
    return steps


def compare(before: list[dict[str, Any]], after: list[dict[str, Any]]) -> int:
    """Print every difference; returns how many steps differ."""
    differ = 0
    for b, a in zip(before, after, strict=True):
        req = {
            k: (b["requests"].get(k, 0), a["requests"].get(k, 0))
            for k in sorted(set(b["requests"]) | set(a["requests"]))
            if b["requests"].get(k, 0) != a["requests"].get(k, 0)
        }
        same_writes = b["writes"] == a["writes"]
        print(
            f"{b['label']:<14} requests {sum(b['requests'].values()):>6} -> "
            f"{sum(a['requests'].values()):<6} writes {len(b['writes']):>6} -> "
            f"{len(a['writes']):<6} {'identical' if not req and same_writes else 'DIFFERENT'}"
        )
        for k, (x, y) in req.items():
            print(f"    {k}: {x} -> {y}")
        if not same_writes:
            only_b = [w for w in b["writes"] if w not in a["writes"]]
            only_a = [w for w in a["writes"] if w not in b["writes"]]
            for w in only_b[:5]:
                print(f"    only before: {w}")
            for w in only_a[:5]:
                print(f"    only after:  {w}")
        differ += bool(req or not same_writes)
    return differ


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench equivalence")
    parser.add_argument("--accounts", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--clock", default=f"{dt.date.today().isoformat()}T06:00:00Z")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--compare", nargs=2, type=Path, metavar=("BEFORE", "AFTER"))
    args = parser.parse_args(argv)
    if args.compare:
        before, after = (json.loads(p.read_text()) for p in args.compare)
        sys.exit(1 if compare(before, after) else 0)
    with tempfile.TemporaryDirectory() as tmp:
        steps = scenario(args.accounts, args.seed, args.clock, Path(tmp))
    if args.out:
        args.out.write_text(json.dumps(steps, indent=1, default=str))
        print(f"written to {args.out}")


if __name__ == "__main__":
    main(sys.argv[1:])
