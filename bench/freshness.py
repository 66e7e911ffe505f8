"""Benchmark: Zendesk webhook received -> that account's write-back done, p50/p95 on loopback.

Each round: a customer opens an urgent ticket (through the Zendesk API), Zendesk's export lag
passes (sandbox clock), the signed webhook arrives; timed from the webhook POST until the
targeted refresh (pull, rescore, plan, push) has written the new ticket's health tags.

Run by hand:  .venv/bin/python -m bench freshness --accounts 200 --rounds 30
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import tempfile
import time
from pathlib import Path


def main(argv: list[str]) -> None:
    from fastapi.testclient import TestClient
    from sqlalchemy import select

    from connectors.zendesk_records import TicketCreate
    from model.db import upgrade
    from model.tables import ExternalIdentity
    from pulsehub.demo import sandbox_settings
    from pulsehub.runtime import Runtime
    from pulsehub.web.app import create_app
    from pulsehub.web.webhooks import SIGNATURE, TIMESTAMP
    from sandbox import Sandbox
    from sync.webhooks import sign

    parser = argparse.ArgumentParser(prog="python -m bench freshness")
    parser.add_argument("--accounts", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args(argv)
    secret = "bench-webhook-secret"
    url = f"sqlite:///{Path(tempfile.mkdtemp()) / 'fresh.db'}"
    upgrade(url)
    with Sandbox(accounts=args.accounts, seed=7) as sb:
        settings = sandbox_settings(sb.base_url, url, webhook_secret=secret)
        settings.zendesk.export_requests_per_minute = 100
        rt = Runtime(settings)
        rt.sync()
        with rt.factory() as s:
            orgs = list(
                s.execute(
                    select(ExternalIdentity.external_id).where(
                        ExternalIdentity.source == "zendesk", ExternalIdentity.status == "linked"
                    )
                ).scalars()
            )
        app = create_app(rt.settings, factory=rt.factory)
        app.state.enqueue_refresh = lambda acc: rt.refresh(acc)
        client = TestClient(app)
        seconds: list[float] = []
        for n in range(args.rounds):
            org = int(orgs[n % len(orgs)])
            key = f"bench-fresh-{n}"
            made = rt.connectors["zendesk"].create_ticket(
                TicketCreate(
                    subject="Checkout broken",
                    body="urgent",
                    priority="urgent",
                    organization_id=org,
                    external_id=key,
                ),
                idempotency_key=key,
            )
            sb.tick(61)
            body = json.dumps(
                {"ticket": {"id": int(made.created_id), "organization_id": org}}
            ).encode()
            ts = dt.datetime.now(dt.UTC).isoformat()
            started = time.perf_counter()
            r = client.post(
                "/webhooks/zendesk",
                content=body,
                headers={SIGNATURE: sign(secret, ts, body), TIMESTAMP: ts},
            )
            seconds.append(time.perf_counter() - started)
            assert r.status_code == 202, r.text
        rt.close()
    q = statistics.quantiles(seconds, n=20)
    print(
        f"webhook -> write-back done, {args.rounds} rounds, {args.accounts} accounts: "
        f"p50 {statistics.median(seconds):.2f}s, p95 {q[18]:.2f}s, max {max(seconds):.2f}s"
    )
