"""`python -m bench daywave --accounts N`: how many accounts a new day rewrites in Salesforce.

One sandbox world, one database per policy; each syncs on day D, the world evolves one day, and
each syncs again on D+1. Counted: the accounts whose Salesforce fields and the organizations
whose Zendesk fields the second sync wrote — with the write-back dead-bands (the default) and
without them (every numeric change written), on the same worlds.
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
from collections import Counter
from pathlib import Path

from model.db import upgrade
from pulsehub.demo import sandbox_settings
from pulsehub.runtime import Runtime
from pulsehub.settings import DeadBandSettings
from sandbox import Sandbox

DAY = dt.datetime(2026, 11, 2, 12, tzinfo=dt.UTC)


def one(accounts: int, seed: int, band: DeadBandSettings, db_dir: Path) -> dict[str, object]:
    url = f"sqlite:///{db_dir / f'daywave-{band.score:g}-{band.risk:g}-{band.trend:g}.db'}"
    upgrade(url)
    with Sandbox(accounts=accounts, seed=seed, now=DAY) as sb:
        rt = Runtime(sandbox_settings(sb.base_url, url, writeback_deadband=band))
        rt.sync(as_of=DAY.date())
        sb.advance(1)
        sb.tick(61)  # past the exports' one-minute lag
        before = len(sb.writes)
        report = rt.sync(as_of=DAY.date() + dt.timedelta(days=1))
        kinds = Counter(w["kind"] for w in sb.writes[before:])
        fields = Counter(
            f for w in sb.writes[before:] if w["kind"] == "account_fields" for f in w["changes"]
        )
        rt.close()
    scored = sum(report.bands.values())
    return {
        "scored": scored,
        "account_writes": kinds["account_fields"],
        "org_writes": kinds["org_fields"],
        "share": round(kinds["account_fields"] / scored, 3) if scored else 0.0,
        "fields": dict(fields.most_common()),
    }


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench daywave")
    parser.add_argument("--accounts", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--wide", default="",
        help="also a wider policy: SCORE,RISK,TREND points (e.g. 3,6,10)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    policies = [("no dead-band", DeadBandSettings(score=0, risk=0, trend=0, text=0)),
                ("dead-bands (default)", DeadBandSettings())]  # fmt: skip
    if args.wide:
        score, risk, trend = (float(x) for x in args.wide.split(","))
        wide = DeadBandSettings(score=score, risk=risk, trend=trend)
        policies.append((f"dead-bands score {score:g}, risk {risk:g}, trend {trend:g}", wide))
    with tempfile.TemporaryDirectory() as tmp:
        for label, band in policies:
            r = one(args.accounts, args.seed, band, Path(tmp))
            print(f"{label}: the day after, {r['account_writes']} of {r['scored']} scored accounts "
                  f"rewritten in Salesforce ({r['share']:.1%}), {r['org_writes']} organizations; "
                  f"fields: {r['fields']}")  # fmt: skip
