"""Benchmark: API requests a sync uses against the fewest any client could use.

Scenarios, each one `pulsehub sync` in its own process against a sandbox in another, every
request counted from the sandbox's own request log:

- full sync: the minimum is ceil(records / page size) per stream;
- after every sync that wrote, the next one: pulsehub's own writes move Salesforce
  `SystemModstamp` and Zendesk `updated_at`, so the records it wrote are changed records for
  the next sync (it must re-read them: a person may have edited them as well), and the
  engineering tickets it opened arrive in that pull;
- incremental with 1% of every record kind changed (`POST /_sandbox/change`);
- write-back of 1%, 10% and 100% of the accounts: a CSM overrides their health band
  (`pulsehub score override`), so exactly those accounts' desired fields change;
- an hour later: the usage API refreshes today's partial rows at the top of every hour (the
  bench moves the sandbox clock there after the full sync, so nothing else in between
  crosses one, and once at the end to measure it).

Read minimum per stream: ceil(changed / page size), at least one request, where "changed"
is what the sandbox reports changed since the previous sync began (`GET /_sandbox/changed`);
the Salesforce streams' first pages count once together (one Composite request holds five
queries: `bench.request_log.read_minimum`).
Write minimum: ceil(accounts / 200) collections + ceil(orgs / 100) `update_many` + per tag
change ceil(tickets / 100), from what the run planned (checked against what was overridden);
job-status polls and escalation side effects are reported apart.

Run by hand:  .venv/bin/python -m bench efficiency --accounts 1000 [10000] [--db-dir DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sqlite3
import subprocess
import sys
import tempfile
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any

from bench.pipeline import (
    PAGE,
    ROOT,
    _db_counts,
    _env,
    _free_port,
    _get,
    _post,
    _sync,
    sandbox_started,
)
from bench.request_log import Classifier, planned_since, read_minimum, table, write_minimum

STREAMS = (
    "salesforce.accounts",
    "salesforce.opportunities",
    "salesforce.contacts",
    "zendesk.organizations",
    "zendesk.tickets",  # CSAT rides on each ticket's satisfaction_rating: no ratings list
    "usage.workspaces",
    "usage.daily_usage",
    "usage.surveys",
    "usage.users",
)
PAGE_OF = {
    "salesforce.accounts": PAGE["salesforce"],
    "salesforce.opportunities": PAGE["salesforce"],
    "salesforce.contacts": PAGE["salesforce"],
    "zendesk.organizations": PAGE["zendesk_export"],
    "zendesk.tickets": PAGE["zendesk_export"],  # metrics ride along (include=metric_sets)
    "usage.workspaces": PAGE["usage"],
    "usage.daily_usage": PAGE["usage"],
    "usage.surveys": PAGE["usage"],
    "usage.users": PAGE["usage"],
}
# what /_sandbox/changed calls each stream
SANDBOX_NAME = {
    "salesforce.accounts": "salesforce.Account",
    "salesforce.opportunities": "salesforce.Opportunity",
    "salesforce.contacts": "salesforce.Contact",
}
FULL_RECORDS = {  # stream -> key of bench.pipeline._db_counts
    "salesforce.accounts": "accounts",
    "salesforce.opportunities": "opportunities",
    "salesforce.contacts": "contacts",
    "zendesk.organizations": "organizations",
    "zendesk.tickets": "tickets",
    "usage.workspaces": "workspaces",
    "usage.daily_usage": "usage_days",
    "usage.surveys": "surveys",
    "usage.users": "users",
}


def _get_all(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=300) as r:
        return json.loads(r.read())


class Run:
    """One sandbox + SQLite database; `sync(label)` measures one `pulsehub sync`."""

    def __init__(self, accounts: int, seed: int, db_dir: Path) -> None:
        self.accounts = accounts
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.db = db_dir / f"efficiency-{accounts}.db"
        self.db.unlink(missing_ok=True)
        self.env = _env(self.base, f"sqlite:///{self.db}")
        self.seed = seed
        self.rows: list[dict[str, Any]] = []
        self.last_start: float | None = None
        self.last_outbox = 0
        self.server = subprocess.Popen(
            [sys.executable, "-m", "pulsehub.cli", "sandbox", "serve", "--port", str(self.port),
             "--accounts", str(accounts), "--seed", str(seed)],
            cwd=str(ROOT), env={**os.environ, "PYTHONPATH": str(ROOT)},
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        if not sandbox_started(self.base, 2400):
            sys.exit("sandbox did not start")
        subprocess.run(
            [sys.executable, "-m", "pulsehub.cli", "db", "upgrade"],
            env=self.env, cwd=str(ROOT), check=True, capture_output=True,
        )  # fmt: skip

    def close(self) -> None:
        self.server.terminate()
        self.server.wait(30)

    def sync(self, label: str, *, full: bool = False, note: str = "") -> dict[str, Any]:
        # past Zendesk's one-minute export lag, so every change so far is visible to the sync
        _post(f"{self.base}/_sandbox/advance?seconds=61")
        start = float(_get(f"{self.base}/_sandbox/counts")["epoch"])
        changed: dict[str, int] = {}
        if self.last_start is not None:
            got = _get(f"{self.base}/_sandbox/changed?since={self.last_start}")["changed"]
            changed = {s: int(got[SANDBOX_NAME.get(s, s)]) for s in STREAMS}
        _post(f"{self.base}/_sandbox/clear")
        seconds, _ = _sync(self.env)
        log = _get_all(f"{self.base}/_sandbox/requests")["requests"]
        self.last_start = start
        classify = Classifier()
        by: dict[str, Counter[str]] = {
            b: Counter() for b in ("read", "write", "poll", "escalation", "other")
        }
        for r in log:
            if r["system"] == "control":
                continue
            bucket, name = classify(r)
            by[bucket][name] += 1
        if full:
            records = _db_counts(self.db)
            changed = {s: records[FULL_RECORDS[s]] for s in STREAMS}
        read_min = read_minimum(changed, PAGE_OF)
        kinds, tag_groups, self.last_outbox = planned_since(self.db, self.last_outbox)
        row = {
            "scenario": label,
            "note": note,
            "seconds": round(seconds, 1),
            "changed": changed,
            "reads": dict(by["read"]),
            "read_min": read_min,
            "planned": kinds,
            "tag_groups": tag_groups,
            "writes": dict(by["write"]),
            "write_min": write_minimum(kinds, tag_groups),
            "polls": sum(by["poll"].values()),
            "escalation": dict(by["escalation"]),
            "other": dict(by["other"]),
        }
        self.rows.append(row)
        print(_line(row), flush=True)
        return row

    def next_hour(self) -> None:
        """Move the sandbox clock to the next top of the hour (today's usage is refreshed)."""
        now = float(_get(f"{self.base}/_sandbox/counts")["epoch"])
        _post(f"{self.base}/_sandbox/advance?seconds={3600 - now % 3600 + 1:.3f}")

    def change(self, fraction: float) -> dict[str, int]:
        url = f"{self.base}/_sandbox/change?fraction={fraction}&seed={self.seed}"
        return dict(_post(url)["changed"])

    def override(self, fraction: float, salt: int) -> list[int]:
        """Flip the band of `fraction` of the scored accounts through `pulsehub score override`."""
        from typer.testing import CliRunner

        from pulsehub.cli import app
        from pulsehub.settings import get_settings

        con = sqlite3.connect(self.db)
        rows = con.execute(
            "SELECT a.id, s.band FROM accounts a JOIN health_snapshots s ON s.account_id = a.id "
            "WHERE s.as_of = (SELECT max(as_of) FROM health_snapshots) "
            "AND a.crm_id IS NOT NULL AND a.is_deleted = 0 ORDER BY a.id"
        ).fetchall()
        con.close()
        chosen = random.Random(f"{self.seed}:{salt}").sample(rows, round(fraction * len(rows)))
        flip = {"green": "yellow", "yellow": "green", "red": "yellow"}
        saved = {k: v for k, v in os.environ.items() if k.startswith("PULSEHUB_")}
        os.environ.update({k: v for k, v in self.env.items() if k.startswith("PULSEHUB_")})
        get_settings.cache_clear()
        runner = CliRunner()
        try:
            for account_id, band in chosen:
                result = runner.invoke(
                    app,
                    ["score", "override", str(account_id), "--band", flip.get(band, "yellow"),
                     "--reason", "efficiency bench: CSM knows better", "--days", "30"],
                )  # fmt: skip
                if result.exit_code != 0:
                    sys.exit(f"override failed: {result.output}")
        finally:
            for k in [k for k in os.environ if k.startswith("PULSEHUB_")]:
                del os.environ[k]
            os.environ.update(saved)
            get_settings.cache_clear()
        return [a for a, _ in chosen]


def _line(row: dict[str, Any]) -> str:
    reads, rmin = sum(row["reads"].values()), sum(row["read_min"].values())
    writes = sum(row["writes"].values())
    return (
        f"{row['scenario']}: {row['seconds']} s, reads {reads} (min {rmin}), writes {writes} "
        f"(min {row['write_min']}), polls {row['polls']}, escalation {sum(row['escalation'].values())}"
    )


def run_size(accounts: int, seed: int, db_dir: Path) -> list[dict[str, Any]]:
    run = Run(accounts, seed, db_dir)
    try:
        run.sync("full sync", full=True)
        run.next_hour()  # what follows fits in one hour: today's usage rows stay as they are
        run.sync("next sync (on the hour: today's usage refreshed)")
        run.sync("next sync")
        changed = run.change(0.01)
        run.sync("1% of every record kind changed", note=json.dumps(changed))
        run.sync("next sync")
        for fraction, salt in ((0.01, 1), (0.10, 10), (1.0, 100)):
            chosen = run.override(fraction, salt)
            planned = run.sync(
                f"write-back: {fraction:.0%} of the scored accounts' health overridden "
                f"({len(chosen):,})",
                note=f"{len(chosen)} overridden",
            )["planned"].get("crm_account_fields", 0)
            if planned != len(chosen):
                print(f"  note: {planned} account writes planned for {len(chosen)} overridden")
            run.sync("next sync")
        run.sync("next sync")
        run.next_hour()
        run.sync("an hour later: today's usage refreshed")
        run.sync("next sync")
        return run.rows
    finally:
        run.close()


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench efficiency")
    parser.add_argument("--accounts", type=int, nargs="+", default=[1000])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--db-dir", type=Path, default=None)
    parser.add_argument("--json", type=Path, default=None, help="also write every figure here")
    args = parser.parse_args(argv)
    db_dir = args.db_dir or Path(tempfile.mkdtemp(prefix="pulsehub-efficiency-"))
    results = {}
    for n in args.accounts:
        rows = run_size(n, args.seed, db_dir)
        results[n] = rows
        print(f"\n{n:,} accounts\n" + table(rows) + "\n", flush=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))
