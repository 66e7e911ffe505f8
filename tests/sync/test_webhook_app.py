"""`create_app` sends webhook refreshes to the configured broker, or answers 503 when it can't."""

from __future__ import annotations

import base64
import datetime as dt
import json
import socket
import time

import pytest
from fastapi.testclient import TestClient

from model.db import transaction
from pulsehub.settings import Settings
from pulsehub.web.app import create_app
from pulsehub.web.webhooks import SIGNATURE, TIMESTAMP
from sync.webhooks import sign
from tests.sync.factories import account, linked_org

SECRET = "whsec-app-canary-41c"
BODY = json.dumps({"ticket": {"id": 7, "organization_id": 700}}).encode()


@pytest.fixture
def account_id(factory) -> int:
    with transaction(factory) as s:
        acc = account(1)
        s.add(acc)
        s.flush()
        s.add(linked_org(700, acc.id))
        return acc.id


def _post(app) -> object:
    ts = dt.datetime.now(dt.UTC).isoformat()
    headers = {SIGNATURE: sign(SECRET, ts, BODY), TIMESTAMP: ts}
    return TestClient(app).post("/webhooks/zendesk", content=BODY, headers=headers)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_unreachable_broker_answers_503_not_queued(factory, migrated_url, account_id) -> None:
    broker = f"redis://127.0.0.1:{_closed_port()}/0"
    settings = Settings(database_url=migrated_url, broker_url=broker, webhook_secret=SECRET)
    started = time.monotonic()
    r = _post(create_app(settings, factory=factory))
    assert r.status_code == 503, r.text
    assert "broker" in r.text and "queued" not in r.json()
    assert time.monotonic() - started < 10  # well inside a webhook sender's timeout


@pytest.mark.redis
def test_refresh_is_queued_on_the_configured_redis(
    factory, migrated_url, account_id, redis_url
) -> None:
    import redis

    r = redis.Redis.from_url(redis_url)
    r.delete("celery")
    settings = Settings(database_url=migrated_url, broker_url=redis_url, webhook_secret=SECRET)
    resp = _post(create_app(settings, factory=factory))
    assert resp.status_code == 202 and resp.json()["queued"] is True
    messages = [json.loads(m) for m in r.lrange("celery", 0, -1)]
    r.delete("celery")
    assert [m["headers"]["task"] for m in messages] == ["pulsehub.refresh_account"]
    args, _kwargs, _embed = json.loads(base64.b64decode(messages[0]["body"]))
    assert args == [account_id]
