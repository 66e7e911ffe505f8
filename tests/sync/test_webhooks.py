"""Zendesk webhook: valid signature accepted; bad signature, stale timestamp, replay, oversize rejected."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from model.db import transaction
from pulsehub.settings import Settings
from pulsehub.web.webhooks import SIGNATURE, TIMESTAMP, router
from sync.webhooks import MAX_BODY_BYTES, WebhookRejected, sign, verify
from tests.sync.factories import account, linked_org

SECRET = "whsec-test-canary-9f2"


@pytest.fixture
def client(factory):
    with transaction(factory) as s:
        acc = account(1)
        s.add(acc)
        s.flush()
        s.add(linked_org(500, acc.id))
        acc_id = acc.id
    app = FastAPI()
    app.include_router(router)
    app.state.settings = Settings(webhook_secret=SECRET)
    app.state.factory = factory
    queued: list[int] = []
    app.state.enqueue_refresh = queued.append
    c = TestClient(app)
    c.queued = queued  # type: ignore[attr-defined]
    c.account_id = acc_id  # type: ignore[attr-defined]
    return c


def _post(
    client, body: bytes, *, ts: str | None = None, secret: str = SECRET, sig: str | None = None
):
    ts = ts or dt.datetime.now(dt.UTC).isoformat().replace("+00:00", "Z")
    signature = sig if sig is not None else sign(secret, ts, body)
    return client.post(
        "/webhooks/zendesk", content=body, headers={SIGNATURE: signature, TIMESTAMP: ts}
    )


def test_valid_delivery_queues_a_refresh_of_that_account(client) -> None:
    body = json.dumps({"ticket": {"id": 1, "organization_id": 500, "priority": "urgent"}}).encode()
    r = _post(client, body)
    assert r.status_code == 202, r.text
    assert r.json()["account_id"] == client.account_id
    assert client.queued == [client.account_id]


def test_bad_signature_is_rejected(client) -> None:
    r = _post(client, b'{"organization_id": 500}', secret="wrong-secret")
    assert r.status_code == 401 and "bad signature" in r.text
    assert client.queued == []


def test_stale_timestamp_is_rejected(client) -> None:
    old = (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=10)).isoformat()
    r = _post(client, b'{"organization_id": 500}', ts=old)
    assert r.status_code == 401 and "stale" in r.text


def test_replay_is_rejected(client) -> None:
    ts = dt.datetime.now(dt.UTC).isoformat()
    body = b'{"organization_id": 500}'
    assert _post(client, body, ts=ts).status_code == 202
    r = _post(client, body, ts=ts)
    assert r.status_code == 409 and "replay" in r.text
    assert client.queued == [client.account_id]


def test_missing_headers_and_oversized_body() -> None:
    with pytest.raises(WebhookRejected, match="missing"):
        verify(SECRET, None, None, b"{}")
    with pytest.raises(WebhookRejected) as exc:
        verify(SECRET, "x", "y", b"x" * (MAX_BODY_BYTES + 1))
    assert exc.value.status == 413


def test_unknown_organization_is_accepted_but_not_queued(client) -> None:
    r = _post(client, b'{"organization_id": 999}')
    assert r.status_code == 202 and r.json()["queued"] is False


def test_disabled_without_secret(factory) -> None:
    app = FastAPI()
    app.include_router(router)
    app.state.settings = Settings()
    app.state.factory = factory
    assert TestClient(app).post("/webhooks/zendesk", content=b"{}").status_code == 503


def test_broker_failure_answers_503_and_a_redelivery_is_accepted(client) -> None:
    def broker_down(account_id: int) -> None:
        raise ConnectionRefusedError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    working = client.app.state.enqueue_refresh
    client.app.state.enqueue_refresh = broker_down
    ts = dt.datetime.now(dt.UTC).isoformat()
    body = b'{"organization_id": 500}'
    r = _post(client, body, ts=ts)
    assert r.status_code == 503 and "PULSEHUB_BROKER_URL" in r.text
    assert "queued" not in r.json() and client.queued == []
    client.app.state.enqueue_refresh = working  # broker back: Zendesk retries the same delivery
    r = _post(client, body, ts=ts)
    assert r.status_code == 202 and r.json()["queued"] is True
    assert client.queued == [client.account_id]
