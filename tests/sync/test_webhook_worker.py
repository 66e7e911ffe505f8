"""Webhook -> real worker -> Salesforce: `pulsehub web` and `pulsehub worker` as subprocesses.

The web process must queue on the configured broker (PULSEHUB_BROKER_URL) — the one the
worker consumes — and the worker's refresh must reach the sandbox's Salesforce account.
"""

from __future__ import annotations

import datetime as dt
import json
import socket
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from connectors.zendesk_records import TicketCreate
from model.db import upgrade
from model.tables import Account, ExternalIdentity, SyncRun
from pulsehub.demo import sandbox_settings
from pulsehub.runtime import Runtime
from pulsehub.web.webhooks import SIGNATURE, TIMESTAMP
from sandbox import Sandbox
from sync.webhooks import sign
from tests.sync.processes import clean_env, env_of, start, stop, wait_for

pytestmark = [pytest.mark.redis, pytest.mark.slow]

SECRET = "whsec-e2e-canary-7d1"
HEALTH_FIELDS = ("Health_Score__c", "Health_Status__c", "Health_Reasons__c")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _listening(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/login", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _health(sb: Sandbox, crm_id: str) -> tuple[object, ...]:
    with sb.world.lock:
        acc = sb.world.sf["Account"][crm_id]
        return tuple(acc.get(f) for f in HEALTH_FIELDS)


def _healthiest_linked(rt: Runtime, sb: Sandbox) -> tuple[int, str, int]:
    """(account id, Salesforce id, Zendesk org id) of the best-scored account with an org."""
    with rt.factory() as s:
        rows = s.execute(
            select(Account.id, Account.crm_id, ExternalIdentity.external_id)
            .join(ExternalIdentity, ExternalIdentity.account_id == Account.id)
            .where(ExternalIdentity.source == "zendesk", ExternalIdentity.status == "linked")
        ).all()
    scored = [(_health(sb, sf)[0], aid, sf, int(org)) for aid, sf, org in rows if sf]
    _score, aid, sf, org = max((r for r in scored if r[0] is not None), key=lambda r: r[0])
    return aid, sf, org


def _signed_post(port: int, body: bytes) -> httpx.Response:
    ts = dt.datetime.now(dt.UTC).isoformat().replace("+00:00", "Z")
    headers = {SIGNATURE: sign(SECRET, ts, body), TIMESTAMP: ts}
    return httpx.post(f"http://127.0.0.1:{port}/webhooks/zendesk", content=body, headers=headers)


def _refresh_done(rt: Runtime, account_id: int) -> bool:
    with rt.factory() as s:
        return bool(
            s.scalar(
                select(SyncRun.id).where(
                    SyncRun.kind == f"refresh:{account_id}", SyncRun.finished_at.is_not(None)
                )
            )
        )


def _tail(*logs: Path) -> str:
    return "\n".join(f"--- {p.name}\n{p.read_text()[-3000:]}" for p in logs if p.exists())


def test_signed_webhook_reaches_a_real_worker_and_changes_salesforce(redis_url, tmp_path) -> None:
    import redis

    redis.Redis.from_url(redis_url).flushdb()  # no message left over from another run
    db_url = f"sqlite:///{tmp_path / 'hub.db'}"
    upgrade(db_url)
    with Sandbox(accounts=30, seed=4) as sb:
        settings = sandbox_settings(sb.base_url, db_url)
        rt = Runtime(settings)
        assert rt.sync().errors == []  # the accounts, their orgs and first health fields exist
        account_id, crm_id, org_id = _healthiest_linked(rt, sb)
        before = _health(sb, crm_id)
        env = clean_env(
            **env_of(settings), PULSEHUB_BROKER_URL=redis_url, PULSEHUB_WEBHOOK_SECRET=SECRET
        )
        port = _free_port()
        logs = (tmp_path / "web.log", tmp_path / "worker.log")
        procs = [
            start(["-m", "pulsehub.cli", "web", "--port", str(port)], env, logs[0]),
            start(["-m", "pulsehub.cli", "worker", "--concurrency", "1"], env, logs[1]),
        ]
        try:
            wait_for(lambda: _listening(port), 60, "pulsehub web to listen")
            for n in range(3):  # three open urgent tickets: the support score drops to 0
                created = rt.connectors["zendesk"].create_ticket(
                    TicketCreate(subject=f"Outage {n}", body="Nothing loads.", priority="urgent",
                                 organization_id=org_id, external_id=f"e2e-{n}"),
                    idempotency_key=f"e2e-{n}",
                )  # fmt: skip
                assert created.ok
            sb.tick(61)  # Zendesk's incremental export leaves out the last minute
            ticket = {"id": int(created.created_id or 0), "organization_id": org_id}
            body = json.dumps({"type": "zen:event-type:ticket.created", "detail": ticket}).encode()
            posted = time.monotonic()
            r = _signed_post(port, body)
            assert r.status_code == 202, r.text
            assert r.json() == {"accepted": True, "account_id": account_id, "queued": True}
            try:
                wait_for(lambda: _health(sb, crm_id) != before, 120, "Salesforce health to change")
                seconds = time.monotonic() - posted
                wait_for(lambda: _refresh_done(rt, account_id), 60, "the refresh run to finish")
            except AssertionError as exc:
                raise AssertionError(f"{exc}\n{_tail(*logs)}") from None
        finally:
            for proc in procs:
                stop(proc)
        after = _health(sb, crm_id)
        with rt.factory() as s:
            runs = s.execute(select(SyncRun.kind, SyncRun.status)).all()
        rt.close()
    assert float(after[0]) < float(before[0]), (before, after)  # type: ignore[arg-type]
    assert "urgent" in str(after[2]).lower(), after
    assert (f"refresh:{account_id}", "succeeded") in runs
    assert "pulsehub.refresh_account" in logs[1].read_text()
    print(f"webhook -> pulsehub web -> Redis -> worker -> Salesforce fields in {seconds:.2f}s")
