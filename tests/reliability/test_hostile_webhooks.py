"""Hostile webhook bodies: signed garbage, oversized and hand-picked bodies are refused or
accepted, never a crash, and an oversized one is refused before it is parsed.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session, sessionmaker

from tests.reliability.hostile_kit import TRIED, fresh_factory


@pytest.fixture(scope="module")
def factory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[sessionmaker[Session]]:
    yield from fresh_factory(tmp_path_factory)


@pytest.fixture(scope="module")
def webhook(factory: sessionmaker[Session]) -> Any:
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from pulsehub.settings import Settings
    from pulsehub.web.webhooks import router

    app = FastAPI()
    app.include_router(router)
    app.state.settings = Settings(webhook_secret="whsec-hostile")
    app.state.factory = factory
    app.state.queued = []
    app.state.enqueue_refresh = app.state.queued.append
    return TestClient(app)


def _deliver(client: Any, body: bytes) -> int:
    from pulsehub.web.webhooks import SIGNATURE, TIMESTAMP
    from sync.webhooks import sign

    ts = dt.datetime.now(dt.UTC).isoformat()
    headers = {SIGNATURE: sign("whsec-hostile", ts, body), TIMESTAMP: ts}
    return int(client.post("/webhooks/zendesk", content=body, headers=headers).status_code)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**80), 2**80) | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=8,
)
webhook_bodies = st.one_of(
    st.binary(max_size=2000),
    st.builds(
        lambda t, o, i: json.dumps({"ticket": {"id": t, "organization_id": o}, "id": i}).encode(),
        json_values,
        json_values,
        json_values,
    ),
    json_values.map(lambda v: json.dumps(v).encode()),
)


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(body=webhook_bodies)
def test_signed_garbage_webhook_bodies_are_refused_or_accepted_never_crash(webhook, body) -> None:
    TRIED["webhook bodies"] += 1
    assert _deliver(webhook, body) in (202, 400)


@pytest.mark.parametrize("size", [256 * 1024 + 1, 5 * 1024 * 1024])
def test_oversized_webhook_body_is_refused_before_parsing(webhook, size) -> None:
    TRIED["webhook bodies"] += 1
    queued = len(webhook.app.state.queued)
    assert _deliver(webhook, b'{"ticket": {"id": 1, "x": "' + b"a" * size + b'"}}') == 413
    assert len(webhook.app.state.queued) == queued


HAND_PICKED_WEBHOOKS = [
    b"",
    b"null",
    b"[]",
    b'{"ticket": {"id": 1180591620717411303424}}',
    b'{"ticket_id": "999999999999999999999999999999"}',
    b'{"organization_id": {"$ne": null}}',
    b'{"ticket": {"id": "1 OR 1=1", "organization_id": "\' OR \'1\'=\'1"}}',
    b'{"ticket": "\xff\xfe"}',
    b'{"detail": {"id": -1}}',
]


@pytest.mark.parametrize("body", HAND_PICKED_WEBHOOKS)
def test_hand_picked_webhook_bodies(webhook, body) -> None:
    TRIED["webhook bodies"] += 1
    assert _deliver(webhook, body) in (202, 400)
