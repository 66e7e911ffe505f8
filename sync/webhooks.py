"""Helpdesk webhooks: verify the signature, refuse stale or replayed deliveries, find the account.

The helpdesk signs `timestamp + body` with HMAC-SHA256 and the webhook's signing secret and
sends the base64 digest and the ISO-8601 timestamp in two headers (named in
pulsehub.web.webhooks).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from model.tables import ExternalIdentity, Ticket, WebhookReceipt, utcnow

MAX_SKEW = dt.timedelta(minutes=5)
MAX_BODY_BYTES = 256 * 1024


class WebhookRejected(Exception):
    """The delivery is refused; `status` is the HTTP status to answer with."""

    def __init__(self, message: str, status: int = 401) -> None:
        super().__init__(message)
        self.status = status


def sign(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), timestamp.encode() + body, hashlib.sha256)
    return base64.b64encode(mac.digest()).decode()


def parse_timestamp(value: str) -> dt.datetime:
    try:
        ts = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise WebhookRejected("malformed signature timestamp") from None
    return ts if ts.tzinfo else ts.replace(tzinfo=dt.UTC)


def verify(
    secret: str,
    signature: str | None,
    timestamp: str | None,
    body: bytes,
    now: dt.datetime | None = None,
) -> None:
    """Raise WebhookRejected unless the delivery is authentic and fresh."""
    if len(body) > MAX_BODY_BYTES:
        raise WebhookRejected(f"body larger than {MAX_BODY_BYTES} bytes", status=413)
    if not signature or not timestamp:
        raise WebhookRejected("missing signature headers")
    if not hmac.compare_digest(sign(secret, timestamp, body), signature):
        raise WebhookRejected("bad signature")
    if abs((now or utcnow()) - parse_timestamp(timestamp)) > MAX_SKEW:
        raise WebhookRejected("stale timestamp")


def remember(session: Session, signature: str, account_id: int | None) -> None:
    """Record a delivery; a second delivery with the same signature is a replay."""
    try:
        with session.begin_nested():
            session.add(WebhookReceipt(signature=signature[:128], account_id=account_id))
    except IntegrityError:
        raise WebhookRejected("replayed delivery", status=409) from None
    cutoff = utcnow() - 2 * MAX_SKEW  # older signatures would fail the timestamp check anyway
    session.execute(delete(WebhookReceipt).where(WebhookReceipt.received_at < cutoff))


def forget(session: Session, signature: str) -> None:
    """Drop a delivery's receipt (its refresh was not queued), so a redelivery is accepted."""
    session.execute(delete(WebhookReceipt).where(WebhookReceipt.signature == signature[:128]))


def _find(payload: Any, *names: str) -> Any:
    """First value of any of `names` in the payload or its `ticket` / `detail` object."""
    if not isinstance(payload, dict):
        return None
    for scope in (payload, payload.get("ticket"), payload.get("detail")):
        if isinstance(scope, dict):
            for n in names:
                if scope.get(n) not in (None, ""):
                    return scope[n]
    return None


def account_for_event(session: Session, body: bytes) -> int | None:
    """The account a ticket event concerns: by its organization, else by the stored ticket."""
    try:
        payload = json.loads(body or b"{}")
    except ValueError:
        raise WebhookRejected("body is not JSON", status=400) from None
    org_id = _find(payload, "organization_id", "requester_organization_id")
    if org_id is not None:
        acc = session.execute(
            select(ExternalIdentity.account_id)
            .where(
                ExternalIdentity.kind == "organization",
                ExternalIdentity.external_id == str(org_id),
                ExternalIdentity.status == "linked",
            )
            .order_by(ExternalIdentity.id)
            .limit(1)
        ).scalar_one_or_none()
        if acc is not None:
            return int(acc)
    ticket_id = _find(payload, "ticket_id", "id")
    if isinstance(ticket_id, int | str) and str(ticket_id).isdigit() and int(ticket_id) < 2**63:
        acc = session.execute(
            select(Ticket.account_id).where(Ticket.helpdesk_id == int(ticket_id))
        ).scalar()
        return None if acc is None else int(acc)
    return None
