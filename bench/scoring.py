"""Benchmark: score N accounts (signals from the database + snapshot write) — accounts/s, peak memory.

Builds a synthetic SQLite (or PostgreSQL) database once (N accounts, `--days` of daily usage each, two
tickets, a champion and a renewal per account), then scores it in a fresh child process so
its peak RSS is the scoring's own: compute_signals alone, then a full run (signals, scores,
renewal risk, snapshot upsert) and commit, then a second run that updates in place. Mode
`batched` is `score_all` (what a large book should run); `objects` is `score_accounts`,
which also loads every snapshot row back.

Run by hand:  .venv/bin/python -m bench scoring [--accounts 100000] [--days 45] [--postgres URL]
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from model.db import make_engine, make_session_factory
from model.tables import Account, Base, Contact, Opportunity, Ticket, UsageDaily

AS_OF = date(2026, 6, 1)
BATCH = 50_000


def build(url: str, accounts: int, days: int, seed: int = 7) -> None:
    """A synthetic customer base: usage trends up, flat or down per account."""
    rng = random.Random(seed)
    engine = make_engine(url)
    Base.metadata.drop_all(engine)
    Base.metadata.create_all(engine)
    start = AS_OF - timedelta(days=days - 1)
    with engine.begin() as conn:
        conn.execute(insert(Account), [
            {"id": i, "name": f"acct {i}", "crm_source": "salesforce", "crm_id": f"001{i:015d}", "arr": rng.uniform(5e3, 5e5),
             "segment": rng.choice(["SMB", "Mid-Market", "Enterprise"]), "tier": "Tier 2",
             "customer_since": date(2024, 1, 1), "renewal_date": AS_OF + timedelta(days=rng.randint(1, 365)),
             "parent_id": (i - 1) if i % 50 == 0 else None, "attributes": {}}
            for i in range(1, accounts + 1)
        ])  # fmt: skip
        rows: list[dict[str, Any]] = []
        for i in range(1, accounts + 1):
            seats, level, drift = (
                rng.randint(5, 200),
                rng.uniform(0.05, 0.8),
                rng.uniform(-0.02, 0.01),
            )
            for d in range(days):
                au = max(0, int(seats * max(0.0, level + drift * d) * rng.uniform(0.7, 1.3)))
                rows.append({"workspace_id": f"ws{i}", "account_id": i, "day": start + timedelta(days=d),
                             "active_users": au, "logins": au * 2, "feature_events": au * 5,
                             "features_used": rng.randint(1, 8), "seats_used": au, "seats_purchased": seats})  # fmt: skip
            if len(rows) >= BATCH:
                conn.execute(insert(UsageDaily), rows)
                rows = []
        if rows:
            conn.execute(insert(UsageDaily), rows)
        ts = datetime.combine(AS_OF - timedelta(days=20), datetime.min.time(), tzinfo=UTC)
        conn.execute(insert(Ticket), [
            {"source": "zendesk", "helpdesk_id": 2 * i + k, "account_id": i, "status": "solved" if k else "open",
             "priority": rng.choice(["low", "normal", "high", "urgent"]), "tags": ["sync", "sso"][k:],
             "created_at": ts, "updated_at": ts, "solved_at": ts + timedelta(hours=30) if k else None,
             "first_reply_minutes": rng.uniform(10, 2000), "full_resolution_minutes": 1800.0 if k else None,
             "reopens": rng.randint(0, 1), "csat": rng.choice(["good", "good", "bad", None]),
             "csat_at": ts + timedelta(days=1)}
            for i in range(1, accounts + 1) for k in (0, 1)
        ])  # fmt: skip
        conn.execute(insert(Contact), [
            {"source": "salesforce", "crm_id": f"003{i:015d}", "account_id": i, "is_champion": True, "is_deleted": i % 17 == 0,
             "source_created_at": ts - timedelta(days=400), "source_modstamp": ts}
            for i in range(1, accounts + 1)
        ])  # fmt: skip
        conn.execute(insert(Opportunity), [
            {"source": "salesforce", "crm_id": f"006{i:015d}", "account_id": i, "type": "Renewal", "amount": 1e4,
             "close_date": AS_OF + timedelta(days=rng.randint(1, 365)), "is_closed": False}
            for i in range(1, accounts + 1)
        ])  # fmt: skip
    engine.dispose()


def score(url: str, mode: str) -> dict[str, Any]:
    """Run inside the child: time signals alone, then the full scoring run twice."""
    from scoring.config import load_scorecard
    from scoring.service import score_accounts, score_all
    from scoring.signals import compute_signals

    card = load_scorecard()
    factory = make_session_factory(make_engine(url))
    out: dict[str, Any] = {}
    with factory() as session:
        t = time.perf_counter()
        n = len(compute_signals(session, AS_OF))
        out["signals_s"] = round(time.perf_counter() - t, 2)
    for label in ("first", "second"):  # first inserts on a fresh build; second updates in place
        with factory() as session, session.begin():
            t = time.perf_counter()
            if mode == "batched":
                out[f"{label}_accounts"] = sum(score_all(session, AS_OF, card).values())
            else:
                out[f"{label}_accounts"] = len(score_accounts(session, AS_OF, card))
        out[f"{label}_s"] = round(time.perf_counter() - t, 2)
        out[f"{label}_accounts_per_s"] = round(n / (time.perf_counter() - t))
    out["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=45, help="days of usage per account")
    parser.add_argument("--db", default="/tmp/pulsehub_bench_scoring.db", help="SQLite file")
    parser.add_argument("--postgres", default=None, help="use this PostgreSQL URL instead")
    parser.add_argument("--reuse", action="store_true", help="score the existing database")
    parser.add_argument("--mode", choices=["batched", "objects"], default="batched",
                        help="score_all in batches, or score_accounts returning every row")  # fmt: skip
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    url = args.postgres or f"sqlite:///{args.db}"
    if args.child:
        print(json.dumps(score(url, args.mode)))
        return
    if not args.reuse:
        if not args.postgres:
            for suffix in ("", "-wal", "-shm"):
                Path(args.db + suffix).unlink(missing_ok=True)
        t = time.perf_counter()
        build(url, args.accounts, args.days)
        print(
            f"built {args.accounts} accounts x {args.days} usage days in {time.perf_counter() - t:.1f}s"
        )
    cmd = [
        sys.executable,
        "-m",
        "bench",
        "scoring",
        "--child",
        "--db",
        args.db,
        "--mode",
        args.mode,
    ]
    if args.postgres:
        cmd += ["--postgres", args.postgres]
    result = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
    print(f"database: {url.split('@')[-1]}  mode: {args.mode}")
    for key, value in result.items():
        print(f"  {key:<24}{value}")


if __name__ == "__main__":
    main()
