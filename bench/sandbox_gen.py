"""Benchmark: generate the sandbox world at demo and large sizes and walk its lazy usage rows.

`python -m bench sandbox_gen [--accounts 10000] [--usage-days 90]` prints seconds, record
counts and peak RSS for each phase; run by hand, never as a timed test.
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import time

import httpx

from sandbox import Sandbox
from sandbox import credentials as cred
from sandbox.generate import build_world
from sandbox.usage import daily_row
from sandbox.world import World

NOW = dt.datetime(2025, 6, 2, 15, 30, tzinfo=dt.UTC)


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _timed(label: str, call: object) -> object:
    t0 = time.perf_counter()
    result = call() if callable(call) else None
    print(f"    {label:<44} {time.perf_counter() - t0:6.3f}s")
    return result


def serve_figures(world: World) -> None:
    """Latency of typical first/next pages over loopback HTTP on this world."""
    sf_auth = {"Authorization": f"Bearer {cred.SF_SESSION_ID}"}
    soql = (
        "SELECT Id, Name, Email, Account.Name, SystemModstamp FROM Contact "
        "WHERE SystemModstamp >= 2020-01-01T00:00:00Z ORDER BY SystemModstamp, Id"
    )
    with (
        Sandbox(world=world) as sb,
        httpx.Client(base_url=sb.base_url, headers=sf_auth, timeout=300) as sf,
        httpx.Client(
            base_url=sb.base_url, timeout=300, auth=(f"{cred.ZD_EMAIL}/token", cred.ZD_API_TOKEN)
        ) as zd,
    ):
        first = _timed(
            "SF query first page (all contacts, sorted)",
            lambda: sf.get("/services/data/v59.0/query/", params={"q": soql}).json(),
        )
        assert isinstance(first, dict)
        if "nextRecordsUrl" in first:
            _timed("SF query next page", lambda: sf.get(first["nextRecordsUrl"]))
        page = _timed(
            "ZD cursor export first page (1000 tickets)",
            lambda: zd.get("/api/v2/incremental/tickets/cursor.json?start_time=0").json(),
        )
        assert isinstance(page, dict)
        if not page["end_of_stream"]:
            _timed("ZD cursor export next page", lambda: zd.get(page["after_url"]))
        zd.put("/api/v2/tickets/5/tags.json", json={"tags": ["bench"]})
        _timed(
            "ZD export page after a write (re-sort)",
            lambda: zd.get("/api/v2/incremental/tickets/cursor.json?start_time=0"),
        )
        events = "/api/v2/incremental/ticket_metric_events.json?start_time=0"
        _timed("ZD metric events first page (derive+sort)", lambda: zd.get(events))
        _timed("ZD metric events page (cached)", lambda: zd.get(events))


def measure(accounts: int, usage_days: int, walk_usage: bool, ticket_rate: float = 1.0) -> World:
    """Generate one world and print its figures."""
    t0 = time.perf_counter()
    world = build_world(accounts, seed=7, now=NOW, usage_days=usage_days, ticket_rate=ticket_rate)
    gen = time.perf_counter() - t0
    counts = world.counts()
    print(
        f"accounts={accounts:>6} usage_days={usage_days:>3}  generate {gen:6.2f}s  "
        f"tickets={counts['zendesk.tickets']:>7} orgs={counts['zendesk.organizations']:>6} "
        f"contacts={counts['salesforce.Contact']:>6} opps={counts['salesforce.Opportunity']:>6} "
        f"workspaces={counts['usage.workspaces']:>6}  peak RSS {_rss_mb():7.1f} MB"
    )
    if walk_usage:
        t1 = time.perf_counter()
        today = NOW.date().toordinal()
        rows = 0
        for ws in world.workspaces:
            for day in range(today - usage_days + 1, today + 1):
                rows += daily_row(world, ws, day, NOW) is not None
        walk = time.perf_counter() - t1
        print(
            f"    usage rows computed on demand: {rows} in {walk:.2f}s ({rows / walk:,.0f} rows/s)"
        )
    return world


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench sandbox_gen")
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--usage-days", type=int, default=90)
    parser.add_argument(
        "--ticket-rate", type=float, default=1.12, help="1.12 gives ~500k at 10k/90d"
    )
    parser.add_argument("--skip-usage-walk", action="store_true")
    parser.add_argument("--skip-serve", action="store_true")
    args = parser.parse_args(argv)
    measure(200, 180, walk_usage=False)
    world = measure(args.accounts, args.usage_days, not args.skip_usage_walk, args.ticket_rate)
    if not args.skip_serve:
        serve_figures(world)
