"""Benchmark: generate the sandbox world at demo and large sizes and walk its lazy usage rows.

`python -m bench sandbox_gen [--accounts 10000] [--usage-days 90]` prints seconds, record
counts and peak RSS for each phase; run by hand, never as a timed test.
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import time

from sandbox.generate import build_world
from sandbox.usage import daily_row

NOW = dt.datetime(2025, 6, 2, 15, 30, tzinfo=dt.UTC)


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def measure(accounts: int, usage_days: int, walk_usage: bool, ticket_rate: float = 1.0) -> None:
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


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench sandbox_gen")
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--usage-days", type=int, default=90)
    parser.add_argument(
        "--ticket-rate", type=float, default=1.12, help="1.12 gives ~500k at 10k/90d"
    )
    parser.add_argument("--skip-usage-walk", action="store_true")
    args = parser.parse_args(argv)
    measure(200, 180, walk_usage=False)
    measure(args.accounts, args.usage_days, not args.skip_usage_walk, args.ticket_rate)
