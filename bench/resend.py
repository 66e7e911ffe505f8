"""Benchmark: record writes re-sent after lost answers, against the writes that never ran.

Two sandboxes with the same seed and clock; one full `sync` each (in-process, real clients
on loopback HTTP). The faulted one follows a fixed schedule on every write endpoint
pulsehub uses (org and ticket `update_many`, the tags endpoint, Salesforce collection
PATCH, ticket creation): the answers to the first `--lost` requests are lost after the
request was applied (`lost_response`), then `--unrun` requests are reset before they run
(`reset`). Counted from the sandboxes' own request logs, one per record a request carries:

- sent: record writes in every write request; re-sent = faulted run's sent - clean run's sent
- answer lost: record writes in requests applied whose answer never came back
- never ran: record writes in requests that failed before running (reset, 429, 5xx)

A client that re-sends only what it could not confirm re-sends at most what never ran.

Run by hand:  .venv/bin/python -m bench resend --accounts 300 [--lost 2 --unrun 1]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from model.db import upgrade
from pulsehub.demo import sandbox_settings
from pulsehub.runtime import Runtime
from sandbox import Sandbox

NOW = dt.datetime(2026, 11, 2, 12, tzinfo=dt.UTC)
WRITE_ENDPOINTS = (  # (path regex, method) of the field and tag writes
    (r"/organizations/update_many\.json$", "PUT"),
    (r"/tickets/update_many\.json$", "PUT"),
    (r"/tickets/\d+/tags\.json$", "PUT"),
    (r"/tickets/\d+/tags\.json$", "DELETE"),
    (r"/composite/sobjects$", "PATCH"),
    (r"/tickets\.json$", "POST"),  # escalation tickets (Idempotency-Key + external_id)
)
NOT_RUN = {"reset", "timeout", 429, 500, 502, 503}


@dataclass
class Tally:
    """Record writes sent, applied with the answer lost, and failed before running."""

    sent: int = 0
    answer_lost: int = 0
    never_ran: int = 0


def records_in(request: dict[str, Any]) -> int:
    """How many record writes one logged write request carries (0 for reads and logins)."""
    if request["method"] == "GET" or request["system"] not in ("salesforce", "zendesk"):
        return 0
    if "/services/Soap/" in request["path"] or "oauth2" in request["path"]:
        return 0
    if request["path"].rstrip("/").endswith("/composite"):
        return 0  # Salesforce Composite: the pull's queries
    body = request.get("body") or {}
    if isinstance(body, dict):
        for plural in ("organizations", "records", "tickets"):
            if isinstance(body.get(plural), list):
                return len(body[plural])
    ids = (request.get("query") or {}).get("ids")
    return len([i for i in str(ids).split(",") if i]) if ids else 1


def tally(requests: list[dict[str, Any]]) -> Tally:
    """Count the record writes of a request log."""
    out = Tally()
    for r in requests:
        n = records_in(r)
        out.sent += n
        if r.get("lost_response"):
            out.answer_lost += n
        elif r["status"] in NOT_RUN:
            out.never_ran += n
    return out


def schedule(sb: Sandbox, lost: int, unrun: int) -> None:
    """The fixed fault schedule: per write endpoint, `lost` lost answers, then `unrun` resets."""
    for path, method in WRITE_ENDPOINTS:
        if lost:
            sb.faults.add(path, "lost_response", times=lost, method=method)
        if unrun:
            sb.faults.add(path, "reset", times=unrun, method=method)


def sync_once(sb: Sandbox, db_url: str) -> Any:
    """One full sync of the sandbox into a fresh database."""
    upgrade(db_url)
    rt = Runtime(sandbox_settings(sb.base_url, db_url))
    try:
        return rt.sync(as_of=NOW.date())
    finally:
        rt.close()


def measure(accounts: int, seed: int, lost: int, unrun: int, workdir: Path) -> dict[str, Any]:
    """Clean run and faulted run; the figures and both sandboxes' end states."""
    runs: dict[str, Any] = {}
    for name, faulted in (("clean", False), ("faulted", True)):
        with Sandbox(accounts=accounts, seed=seed, now=NOW) as sb:
            if faulted:
                schedule(sb, lost, unrun)
            started = time.perf_counter()
            report = sync_once(sb, f"sqlite:///{workdir / f'{name}.db'}")
            log = [r for r in sb.requests if r["system"] != "control"]
            runs[name] = {
                "tally": tally(log),
                "requests": len(log),
                "seconds": time.perf_counter() - started,
                "errors": list(getattr(report, "errors", []) or []),
                "writes": list(sb.writes),
            }
    clean, faulted = runs["clean"]["tally"], runs["faulted"]["tally"]
    return {
        "accounts": accounts,
        "record_writes_clean": clean.sent,
        "record_writes_faulted": faulted.sent,
        "resent": faulted.sent - clean.sent,
        "answer_lost": faulted.answer_lost,
        "never_ran": faulted.never_ran,
        "requests": {k: v["requests"] for k, v in runs.items()},
        "seconds": {k: round(v["seconds"], 1) for k, v in runs.items()},
        "errors": runs["faulted"]["errors"],
        "_writes": {k: v["writes"] for k, v in runs.items()},
    }


def main(argv: list[str]) -> None:
    """Print the re-sent vs lost figures as one JSON line and a sentence."""
    parser = argparse.ArgumentParser(prog="python -m bench resend")
    parser.add_argument("--accounts", type=int, default=300)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--lost", type=int, default=2, help="lost answers per write endpoint")
    parser.add_argument("--unrun", type=int, default=1, help="resets per write endpoint")
    args = parser.parse_args(argv)
    if args.accounts > 1000:
        parser.error("--accounts: at most 1000 on a shared machine")
    with tempfile.TemporaryDirectory() as tmp:
        fig = measure(args.accounts, args.seed, args.lost, args.unrun, Path(tmp))
    fig.pop("_writes")
    print(json.dumps(fig))
    print(
        f"{args.accounts} accounts: {fig['record_writes_clean']} record writes clean, "
        f"{fig['record_writes_faulted']} faulted; answers lost for {fig['answer_lost']}, "
        f"{fig['never_ran']} never ran; re-sent {fig['resent']}; requests "
        f"{fig['requests']['clean']} clean, {fig['requests']['faulted']} faulted"
    )
