"""POST /webhooks/zendesk: verified ticket events trigger a targeted refresh of one account."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from connectors.http import redact
from model.db import transaction
from sync.webhooks import WebhookRejected, account_for_event, forget, remember, verify

log = logging.getLogger(__name__)
router = APIRouter()

SIGNATURE = "X-Zendesk-Webhook-Signature"
TIMESTAMP = "X-Zendesk-Webhook-Signature-Timestamp"
NOT_QUEUED = (
    "the refresh could not be queued: the task broker (PULSEHUB_BROKER_URL) is unreachable; "
    "nothing was recorded, so a redelivery of this event will be accepted"
)


@router.post("/webhooks/zendesk", status_code=202)
async def zendesk_webhook(request: Request) -> dict[str, object]:
    secret = request.app.state.settings.webhook_secret
    if secret is None:
        raise HTTPException(503, "webhooks are disabled: set PULSEHUB_WEBHOOK_SECRET")
    body = await request.body()
    state = request.app.state
    headers = (request.headers.get(SIGNATURE), request.headers.get(TIMESTAMP))
    # the database and the broker block: run them off the event loop
    return await run_in_threadpool(
        accept_delivery, state.factory, state.enqueue_refresh, secret.get_secret_value(),
        headers, body,
    )  # fmt: skip


def accept_delivery(
    factory: sessionmaker[Session],
    enqueue: Callable[[int], None],
    secret: str,
    headers: tuple[str | None, str | None],
    body: bytes,
) -> dict[str, Any]:
    """Verify, record the receipt, queue the account's refresh; an unqueued delivery is forgotten."""
    signature, timestamp = headers
    try:
        verify(secret, signature, timestamp, body)
        with transaction(factory) as session:
            account_id = account_for_event(session, body)
            remember(session, signature or "", account_id)
    except WebhookRejected as exc:
        log.warning("zendesk webhook refused: %s", exc)
        raise HTTPException(exc.status, str(exc)) from None
    if account_id is None:
        return {"accepted": True, "account_id": None, "queued": False}
    try:
        enqueue(account_id)
    except Exception as exc:  # kombu/redis errors vary by transport; all mean "not queued"
        log.error("refresh of account %s not queued: %s", account_id, redact(str(exc)))
        with transaction(factory) as session:  # so Zendesk's retry is not refused as a replay
            forget(session, signature or "")
        raise HTTPException(503, NOT_QUEUED) from None
    return {"accepted": True, "account_id": account_id, "queued": True}
