"""Email out through SMTP (stdlib smtplib): one connection per batch, a result per message.

SMTP answers are classified the way the HTTP ones are: a 4xx reply or a dropped connection is
retriable, a 5xx reply (bad address, refused relay, message rejected) is final, with the
server's own words as the message.
"""

from __future__ import annotations

import contextlib
import logging
import smtplib
from collections.abc import Callable, Mapping, Sequence
from email.message import EmailMessage

from pydantic import BaseModel

from connectors.base import WriteItem, WriteKind
from connectors.records import WriteResult

log = logging.getLogger(__name__)


class Email(BaseModel):
    key: str  # the write's own id, echoed as the result's target_id
    to: str
    subject: str
    body: str


def _email(item: WriteItem) -> Email:
    p = item.payload
    return Email(key=item.target_id, to=p["to"], subject=p["subject"], body=p["body"])


def _reply(exc: smtplib.SMTPResponseException) -> str:
    text = (
        exc.smtp_error.decode(errors="replace")
        if isinstance(exc.smtp_error, bytes)
        else str(exc.smtp_error)
    )
    return f"{exc.smtp_code} {text}"[:500]


DIGEST_EMAIL = "digest_email"


class EmailSender:
    """Sends `Email`s from `from_address` over connections `connect()` opens (logged in); as a
    `connectors.base.Writer` it sends the digest emails, 50 over one connection."""

    def __init__(self, connect: Callable[[], smtplib.SMTP], from_address: str) -> None:
        self.connect, self.from_address = connect, from_address
        self.calls = 0
        self._kinds = {DIGEST_EMAIL: WriteKind(DIGEST_EMAIL, 50)}

    @property
    def kinds(self) -> Mapping[str, WriteKind]:
        return self._kinds

    def push(self, kind: str, items: Sequence[WriteItem]) -> list[WriteResult]:
        """Each item's payload is an email (`to`, `subject`, `body`)."""
        if kind != DIGEST_EMAIL:
            raise ValueError(f"email writes no {kind!r}")
        return self.send([_email(i) for i in items])

    def send(self, emails: Sequence[Email]) -> list[WriteResult]:
        try:
            conn = self.connect()
        except (OSError, smtplib.SMTPException) as exc:  # server down: every message waits
            message = f"SMTP connection failed: {type(exc).__name__}: {exc}"[:500]
            return [
                WriteResult(target_id=e.key, ok=False, retriable=True, message=message)
                for e in emails
            ]
        out = []
        try:
            for e in emails:
                out.append(self._one(conn, e))
        finally:
            with contextlib.suppress(OSError, smtplib.SMTPException):
                conn.quit()
        return out

    def _one(self, conn: smtplib.SMTP, e: Email) -> WriteResult:
        msg = EmailMessage()
        msg["From"], msg["To"], msg["Subject"] = self.from_address, e.to, e.subject
        msg.set_content(e.body)
        self.calls += 1
        try:
            refused = conn.send_message(msg)
        except smtplib.SMTPResponseException as exc:
            retriable = 400 <= exc.smtp_code < 500
            return WriteResult(target_id=e.key, ok=False, retriable=retriable,
                               error_code=str(exc.smtp_code), message=_reply(exc))  # fmt: skip
        except smtplib.SMTPRecipientsRefused as exc:
            code, text = next(iter(exc.recipients.values()))
            return WriteResult(target_id=e.key, ok=False, retriable=400 <= code < 500,
                               error_code=str(code), message=f"{code} {text!r}"[:500])  # fmt: skip
        except (TimeoutError, OSError, smtplib.SMTPException) as exc:
            return WriteResult(target_id=e.key, ok=False, retriable=True,
                               message=f"{type(exc).__name__}: {exc}"[:500])  # fmt: skip
        if refused:
            return WriteResult(
                target_id=e.key, ok=False, retriable=False, message=str(refused)[:500]
            )
        return WriteResult.success(e.key)
