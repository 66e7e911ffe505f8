"""Build the notification clients from settings: the webhook poster and the digest's SMTP.

The sources' API clients are made by their connectors' entry points (connectors/*_source.py).
"""

from __future__ import annotations

import smtplib
from collections.abc import Callable

import httpx

from pulsehub.settings import DigestSettings


def build_notifier(timeout_s: float = 10.0) -> httpx.Client:
    """The client that posts escalation notifications to generic webhooks (e.g. Slack)."""
    return httpx.Client(timeout=httpx.Timeout(timeout_s), follow_redirects=False)


def build_smtp(cfg: DigestSettings) -> Callable[[], smtplib.SMTP]:
    """Opens a logged-in SMTP connection for each batch of digest emails."""

    def connect() -> smtplib.SMTP:
        assert cfg.smtp_host is not None
        conn = smtplib.SMTP(cfg.smtp_host, cfg.smtp_port, timeout=30)
        if cfg.smtp_starttls:
            conn.starttls()
        if cfg.smtp_username and cfg.smtp_password is not None:
            conn.login(cfg.smtp_username, cfg.smtp_password.get_secret_value())
        return conn

    return connect
