"""POST /webhooks/zendesk: verified ticket events trigger a targeted refresh of one account."""

from __future__ import annotations

import logging
from collections.abc import Callable

from fastapi import APIRouter, HTTPException, Request
from sqlalchemy.orm import Session, sessionmaker

from model.db import transaction
from sync.webhooks import WebhookRejected, account_for_event, remember, verify

log = logging.getLogger(__name__)
router = APIRouter()

SIGNATURE = "X-Zendesk-Webhook-Signature"
TIMESTAMP = "X-Zendesk-Webhook-Signature-Timestamp"


def enqueue_refresh_celery(account_id: int) -> None:
    from sync.tasks import refresh_account

    refresh_account.delay(account_id)


@router.post("/webhooks/zendesk", status_code=202)
async def zendesk_webhook(request: Request) -> dict[str, object]:
    secret = request.app.state.settings.webhook_secret
    if secret is None:
        raise HTTPException(503, "webhooks are disabled: set PULSEHUB_WEBHOOK_SECRET")
    body = await request.body()
    factory: sessionmaker[Session] = request.app.state.factory
    enqueue: Callable[[int], None] = getattr(
        request.app.state, "enqueue_refresh", enqueue_refresh_celery
    )
    signature = request.headers.get(SIGNATURE)
    try:
        verify(secret.get_secret_value(), signature, request.headers.get(TIMESTAMP), body)
        with transaction(factory) as session:
            account_id = account_for_event(session, body)
            remember(session, signature or "", account_id)
    except WebhookRejected as exc:
        log.warning("zendesk webhook refused: %s", exc)
        raise HTTPException(exc.status, str(exc)) from None
    if account_id is None:
        return {"accepted": True, "account_id": None, "queued": False}
    enqueue(account_id)
    return {"accepted": True, "account_id": account_id, "queued": True}
