"""The weekly digest reaches a real SMTP server and a Slack webhook on loopback, once per owner
and week however often the job runs; a refused address is dead-lettered with the server's words."""

from __future__ import annotations

import datetime as dt
import smtplib
import socket
from collections.abc import Iterator
from email import message_from_bytes
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from connectors.email import EmailSender
from connectors.webhook import WebhookNotifier
from model.db import transaction
from model.tables import OutboxItem
from scoring.config import load_scorecard
from sync.jobs import JobConfig, weekly_digest_job
from tests.escalation import factories as f


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Mailbox:
    """An aiosmtpd handler keeping each message; one address is refused with a 550."""

    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_RCPT(self, server, session, envelope, address, options):  # type: ignore[no-untyped-def]
        if address.startswith("gone@"):
            return "550 5.1.1 gone@example.com: mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        self.messages.append(message_from_bytes(envelope.content))
        return "250 Message accepted"


@pytest.fixture
def smtp() -> Iterator[tuple[Mailbox, int]]:
    box, port = Mailbox(), _port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    yield box, port
    controller.stop()


def test_digests_are_sent_once_per_owner_and_week(factory, smtp, webhook_receiver) -> None:
    box, port = smtp
    url, posted = webhook_receiver
    with transaction(factory) as s:
        for owner, email in (
            ("Olivia Owner", "olivia@example.com"),
            ("Gina Gone", "gone@example.com"),
        ):
            acc = f.account(s, owner_name=owner, owner_email=email)
            f.snapshot(s, acc, 9, "green", 80)
            f.snapshot(s, acc, 2, "red", 30)
        quiet = f.account(s, owner_name="Quentin Quiet", owner_email="q@example.com")
        f.snapshot(s, quiet, 2, "green", 90)
    config = JobConfig(
        scorecard=load_scorecard(None),
        notifier=WebhookNotifier(httpx.Client(timeout=5), digest_url=url),
        mailer=EmailSender(
            lambda: smtplib.SMTP("127.0.0.1", port, timeout=5), "pulsehub@example.com"
        ),
    )
    first = weekly_digest_job(factory, config, f.AS_OF)
    again = weekly_digest_job(factory, config, f.AS_OF)
    assert first["owners"] == 3 and first["with_news"] == 2
    assert first["queued"] == 4 and again["queued"] == 0  # 2 emails + 2 Slack messages, once
    assert [m["To"] for m in box.messages] == ["olivia@example.com"]
    mail = box.messages[0]
    assert mail["From"] == "pulsehub@example.com"
    assert "week ending 2026-06-28" in mail["Subject"]
    assert "green -> red" in mail.get_payload()
    assert sorted(p["text"].splitlines()[0] for p in posted) == [
        "pulsehub weekly digest for Gina Gone, week ending 2026-06-28",
        "pulsehub weekly digest for Olivia Owner, week ending 2026-06-28",
    ]
    with factory() as s:
        refused = s.scalars(select(OutboxItem).where(OutboxItem.status == "dead")).one()
    assert refused.kind == "digest_email" and "550" in (refused.last_error or "")
    assert "mailbox unavailable" in refused.last_error


def test_an_unreachable_smtp_server_leaves_the_digest_to_retry(factory) -> None:
    with transaction(factory) as s:
        acc = f.account(s, owner_email="olivia@example.com")
        f.snapshot(s, acc, 9, "green", 80)
        f.snapshot(s, acc, 2, "red", 30)
    port = _port()  # nothing listens there
    config = JobConfig(
        scorecard=load_scorecard(None),
        mailer=EmailSender(lambda: smtplib.SMTP("127.0.0.1", port, timeout=2), "p@example.com"),
    )
    result = weekly_digest_job(factory, config, f.AS_OF)
    assert result["pushed"]["retrying"] == 1
    with factory() as s:
        item = s.scalars(select(OutboxItem)).one()
    assert item.status == "pending" and "SMTP connection failed" in (item.last_error or "")
    assert item.next_attempt_at is not None and item.next_attempt_at > dt.datetime.now(dt.UTC)
