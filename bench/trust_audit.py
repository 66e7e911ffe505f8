"""Benchmark: the nightly trust audit (weekly drift and override rates) on a large book.

`scoring.trust.store_trust_audit` reads the newest nine weekly snapshot days (eight
week-over-week drifts) and the overrides; this bench fills a scratch PostgreSQL database with
N accounts' weekly snapshots whose signals JSON has the shape and size of real ones (33 keys,
~1.9 KB: numbers, labels, nested ages and measure scores), 0.5% of them under an override and
a fifth with a decided renewal, then times the audit in a fresh process, rolled back, and
reports its peak memory (`VmHWM`) against the same process before it.

    .venv/bin/python -m bench trust_audit --accounts 50000 [--database NAME] [--keep]

`--database` reuses a database this bench filled before (`--keep` leaves a new one behind).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import subprocess
import sys
import time
import uuid
from typing import Any

from sqlalchemy import create_engine, text

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
NUMBERS = (
    "arr", "seats", "days_since_customer", "active_users_per_seat", "dau_mau", "logins_per_user",
    "feature_breadth", "usage_change_90d", "tickets_per_seat_90d", "open_urgent_tickets",
    "open_escalations", "repeat_issue_tickets", "first_reply_hours", "resolution_hours",
    "reopen_rate", "csat", "csat_responses", "champions", "champion_change_90d",
    "days_to_renewal", "arr_change_pct", "expansion_pct", "onboarding_milestones",
    "trend_slope_per_week",
)  # fmt: skip
WEEKS = 8
LATEST = dt.date(2026, 12, 6)  # a Sunday


def signals(rng: random.Random, week: int) -> dict[str, Any]:
    """One snapshot's signals, shaped like a real one; usage drifts down in the last week."""
    out: dict[str, Any] = {k: round(rng.lognormvariate(0, 1), 4) for k in NUMBERS}
    out["usage_change_90d"] = round(rng.gauss(-0.2 if week == WEEKS else 0.0, 0.25), 4)
    out |= {"segment": rng.choice(["SMB", "Mid-Market", "Enterprise"]), "tier": "Tier 2",
            "lifecycle_stage": "adoption", "repeat_issue_tag": None}  # fmt: skip
    out["ages"] = {k: rng.randint(0, 90) for k in ("usage", "tickets", "csat", "crm", "contacts")}
    out["measure_scores"] = {k: round(rng.uniform(0, 100), 1) for k in NUMBERS[3:13]}
    out["band_cutoffs"] = {"red_below": 47.6, "green_at": 64.4}
    out["reasons_near"] = ["usage down 18% on 90 days", "2 urgent tickets open"]
    out["risk_drivers_near"] = [{"driver": "csat", "log_odds": 0.31}]
    return out


def fill(url: str, accounts: int) -> None:
    """Accounts, nine weekly snapshot days, overrides and renewals, written with COPY."""
    from model.db import upgrade

    upgrade(url)
    rng = random.Random(7)
    days = [LATEST - dt.timedelta(weeks=WEEKS - k) for k in range(WEEKS + 1)]
    now = dt.datetime(2026, 12, 6, 12, tzinfo=dt.UTC)
    import psycopg

    with psycopg.connect(url.replace("postgresql+psycopg", "postgresql")) as conn:
        with conn.cursor().copy("COPY accounts (id, name, crm_source, crm_id, is_deleted, attributes, created_at, updated_at) FROM STDIN") as copy:  # fmt: skip
            for i in range(1, accounts + 1):
                copy.write_row(
                    (i, f"Account {i}", "salesforce", f"001{i:015d}", False, "{}", now, now)
                )
        overridden = set(rng.sample(range(1, accounts + 1), accounts // 200))
        with conn.cursor().copy("COPY score_overrides (id, account_id, band, reason, expires_at, created_at, revoked, updated_at) FROM STDIN") as copy:  # fmt: skip
            for aid in sorted(overridden):
                created = now - dt.timedelta(days=rng.randint(1, 60))
                copy.write_row((aid, aid, rng.choice(["red", "green"]), "CSM judgement",
                                created + dt.timedelta(days=90), created, False, created))  # fmt: skip
        cols = "account_id, as_of, score, band, computed_score, computed_band, override_id, signals, reasons, contradictions, risk_drivers, sharp_drop, computed_at"  # fmt: skip
        with conn.cursor().copy(f"COPY health_snapshots ({cols}) FROM STDIN") as copy:
            for week, day in enumerate(days):
                for aid in range(1, accounts + 1):
                    score = round(rng.uniform(20, 95), 1)
                    band = "red" if score < 47.6 else "green" if score >= 64.4 else "yellow"
                    over = aid if aid in overridden and week == WEEKS else None
                    copy.write_row((aid, day, score, band, score, band, over,
                                    json.dumps(signals(rng, week)), "[]", "[]", "[]", False, now))  # fmt: skip
        with conn.cursor().copy("COPY opportunities (source, crm_id, account_id, type, close_date, is_closed, is_won, is_deleted) FROM STDIN") as copy:  # fmt: skip
            for aid in range(1, accounts + 1, 5):
                close = LATEST - dt.timedelta(days=rng.randint(0, 120))
                copy.write_row(("salesforce", f"006{aid:015d}", aid, "Renewal", close, True,
                                rng.random() > 0.2, False))  # fmt: skip
        conn.execute("ANALYZE")


def measure(url: str) -> dict[str, Any]:
    """In this fresh process: the audit's seconds and its rise of peak memory, rolled back."""
    from model.db import make_engine, make_session_factory
    from model.orm import utcnow
    from scoring.drift import weekly_drift
    from scoring.override_audit import override_report
    from scoring.trust import store_trust_audit
    from sync.instrument import peak_rss_mib

    factory = make_session_factory(make_engine(url))
    out: dict[str, Any] = {"peak_before_mib": peak_rss_mib()}
    with factory() as session:
        started = time.perf_counter()
        weekly_drift(session, WEEKS)
        out["drift_s"] = round(time.perf_counter() - started, 2)
        started = time.perf_counter()
        override_report(session, now=utcnow(), weeks=WEEKS)
        out["overrides_s"] = round(time.perf_counter() - started, 2)
        started = time.perf_counter()
        row = store_trust_audit(session, now=utcnow(), horizon_days=180, source="bench")
        out["store_s"] = round(time.perf_counter() - started, 2)
        out["report_bytes"] = len(json.dumps(row.report))
        out["weeks"] = len(row.report["drift"]["weeks"])
        out["shifted_last_week"] = row.report["drift"]["weeks"][-1]["shifted"]
        session.rollback()
    out["peak_after_mib"] = peak_rss_mib()
    out["rise_mib"] = round(out["peak_after_mib"] - out["peak_before_mib"], 1)
    return out


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench trust_audit")
    parser.add_argument("what", nargs="?", default="run", choices=["run", "measure"])
    parser.add_argument("--accounts", type=int, default=50_000)
    parser.add_argument("--database", help="a database this bench filled before (kept)")
    parser.add_argument("--keep", action="store_true", help="leave a new database behind")
    parser.add_argument("--url", help=argparse.SUPPRESS)  # the measuring child's
    args = parser.parse_args(argv)
    if args.what == "measure":
        print(json.dumps(measure(args.url)))
        return
    name = args.database or f"bench_trust_{args.accounts}_{uuid.uuid4().hex[:6]}"
    url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    try:
        if args.database is None:
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            started = time.perf_counter()
            fill(url, args.accounts)
            print(f"filled {name}: {args.accounts} accounts x {WEEKS + 1} weekly days "
                  f"in {time.perf_counter() - started:.0f} s", file=sys.stderr)  # fmt: skip
        child = subprocess.run(
            [sys.executable, "-m", "bench", "trust_audit", "measure", "--url", url],
            check=True, capture_output=True, text=True,
        )  # fmt: skip
        print(json.dumps({"accounts": args.accounts, **json.loads(child.stdout)}))
    finally:
        if args.database is None and not args.keep:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
