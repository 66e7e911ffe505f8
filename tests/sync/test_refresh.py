"""Near real time: a signed Zendesk webhook refreshes one account and its new ticket is tagged."""

from __future__ import annotations

import datetime as dt
import json
import time

from fastapi.testclient import TestClient
from sqlalchemy import select

from connectors.zendesk_records import TicketCreate
from model.db import upgrade
from model.tables import ExternalIdentity, SyncRun, Ticket
from pulsehub.demo import sandbox_settings
from pulsehub.runtime import Runtime
from pulsehub.web.app import create_app
from pulsehub.web.webhooks import SIGNATURE, TIMESTAMP
from sandbox import Sandbox
from sync.webhooks import sign

SECRET = "refresh-test-webhook-secret"


def test_webhook_to_tag_on_the_new_ticket(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'refresh.db'}"
    upgrade(url)
    with Sandbox(accounts=30, seed=4) as sb:
        rt = Runtime(sandbox_settings(sb.base_url, url, webhook_secret=SECRET))
        assert rt.sync().errors == []
        with rt.factory() as s:
            org_id, account_id = s.execute(
                select(ExternalIdentity.external_id, ExternalIdentity.account_id).where(
                    ExternalIdentity.source == "zendesk", ExternalIdentity.status == "linked"
                )
            ).first()
        created = rt.connectors["zendesk"].create_ticket(
            TicketCreate(
                subject="Export fails for every user",
                body="Since this morning.",
                priority="urgent",
                organization_id=int(org_id),
                external_id="customer-ticket-1",
            ),
            idempotency_key="customer-ticket-1",
        )
        assert created.ok
        new_id = int(created.created_id)
        sb.tick(61)  # Zendesk's export leaves out the last minute
        app = create_app(rt.settings, factory=rt.factory)
        app.state.enqueue_refresh = lambda acc: rt.refresh(acc)
        body = json.dumps({"ticket": {"id": new_id, "organization_id": int(org_id)}}).encode()
        ts = dt.datetime.now(dt.UTC).isoformat()
        writes_before = len(sb.writes)
        started = time.perf_counter()
        r = TestClient(app).post(
            "/webhooks/zendesk",
            content=body,
            headers={SIGNATURE: sign(SECRET, ts, body), TIMESTAMP: ts},
        )
        seconds = time.perf_counter() - started
        assert r.status_code == 202 and r.json()["account_id"] == account_id
        with rt.factory() as s:
            assert (
                s.execute(select(Ticket.account_id).where(Ticket.helpdesk_id == new_id)).scalar()
                == account_id
            )
            assert (
                s.execute(select(SyncRun.kind).order_by(SyncRun.id.desc())).first()[0]
                == f"refresh:{account_id}"
            )
        tagged = [
            w
            for w in sb.writes[writes_before:]
            if w["kind"] == "ticket_tags_added" and w["target_id"] == str(new_id)
        ]
        assert tagged and any(t.startswith("health_") for t in tagged[0]["changes"]["tags"])
        print(f"webhook -> new ticket tagged in {seconds:.2f}s")
        rt.close()
