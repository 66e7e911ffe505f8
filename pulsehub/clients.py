"""Build the three API clients from settings: the single place where network clients are made.

Connectors receive these already built. `loopback_url` (sandbox/testing only) routes every
https call a vendor client makes to a plain-http base URL on this machine.
"""

from __future__ import annotations

import smtplib
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import requests
from requests.adapters import HTTPAdapter

from pulsehub.settings import (
    ConfigError,
    DigestSettings,
    SalesforceSettings,
    UsageSettings,
    ZendeskSettings,
)


class LoopbackRedirect(HTTPAdapter):
    """Transport adapter that sends every request to one http base URL, keeping path and query."""

    def __init__(self, base_url: str, **kwargs: Any) -> None:
        target = urlsplit(base_url)
        if target.hostname not in {"127.0.0.1", "localhost", "::1"}:
            raise ConfigError(
                f"loopback_url must point at this machine, got host {target.hostname!r}"
            )
        self._netloc = target.netloc
        super().__init__(**kwargs)

    def send(
        self, request: requests.PreparedRequest, *args: Any, **kwargs: Any
    ) -> requests.Response:
        u = urlsplit(request.url or "")
        request.url = urlunsplit(("http", self._netloc, u.path, u.query, u.fragment))
        return super().send(request, *args, **kwargs)


def _session(
    loopback_url: str | None, adapter_kwargs: dict[str, Any] | None = None
) -> requests.Session:
    session = requests.Session()
    kwargs = adapter_kwargs or {}
    adapter: HTTPAdapter = (
        LoopbackRedirect(loopback_url, **kwargs) if loopback_url else HTTPAdapter(**kwargs)
    )
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


def build_salesforce(cfg: SalesforceSettings) -> Any:
    """A simple_salesforce.Salesforce for direct session, SOAP, OAuth password or client-credentials login."""
    from simple_salesforce import Salesforce

    if not cfg.configured:
        raise ConfigError(
            "Salesforce is not configured: set PULSEHUB_SALESFORCE__INSTANCE_URL and "
            "PULSEHUB_SALESFORCE__SESSION_ID, or PULSEHUB_SALESFORCE__USERNAME/PASSWORD/SECURITY_TOKEN"
        )
    common: dict[str, Any] = {"session": _session(cfg.loopback_url), "version": cfg.api_version}
    if cfg.session_id:
        if not cfg.instance_url:
            raise ConfigError("PULSEHUB_SALESFORCE__INSTANCE_URL is required with SESSION_ID")
        return Salesforce(
            session_id=cfg.session_id.get_secret_value(), instance_url=cfg.instance_url, **common
        )
    if cfg.consumer_key and cfg.consumer_secret and not cfg.username:
        return Salesforce(
            consumer_key=cfg.consumer_key,
            consumer_secret=cfg.consumer_secret.get_secret_value(),
            domain=cfg.domain,
            **common,
        )
    if not (cfg.username and cfg.password):
        raise ConfigError("PULSEHUB_SALESFORCE__USERNAME needs PULSEHUB_SALESFORCE__PASSWORD")
    login: dict[str, Any] = {
        "username": cfg.username,
        "password": cfg.password.get_secret_value(),
        "domain": cfg.domain,
    }
    if cfg.consumer_key and cfg.consumer_secret:
        login |= {
            "consumer_key": cfg.consumer_key,
            "consumer_secret": cfg.consumer_secret.get_secret_value(),
        }
    else:
        login["security_token"] = (
            cfg.security_token.get_secret_value() if cfg.security_token else ""
        )
    return Salesforce(**login, **common)


def build_zendesk(cfg: ZendeskSettings) -> Any:
    """A zenpy.Zenpy with token or OAuth auth and the production retry adapter on both schemes
    (urllib3 re-sends reads only: see `connectors.zendesk_transport.adapter_kwargs`)."""
    from zenpy import Zenpy

    from connectors.zendesk_transport import adapter_kwargs

    if not cfg.configured:
        raise ConfigError(
            "Zendesk is not configured: set PULSEHUB_ZENDESK__SUBDOMAIN and PULSEHUB_ZENDESK__EMAIL + "
            "PULSEHUB_ZENDESK__TOKEN (or PULSEHUB_ZENDESK__OAUTH_TOKEN)"
        )
    session = _session(cfg.loopback_url, adapter_kwargs())
    auth: dict[str, Any] = (
        {"email": cfg.email, "token": cfg.token.get_secret_value()}
        if cfg.token
        else {"oauth_token": cfg.oauth_token.get_secret_value() if cfg.oauth_token else None}
    )
    return Zenpy(subdomain=cfg.subdomain, session=session, timeout=cfg.timeout_s, **auth)


def build_usage(cfg: UsageSettings) -> httpx.Client:
    if not cfg.configured or cfg.token is None or cfg.base_url is None:
        raise ConfigError(
            "usage API is not configured: set PULSEHUB_USAGE__BASE_URL and PULSEHUB_USAGE__TOKEN"
        )
    return httpx.Client(
        base_url=cfg.base_url,
        headers={"Authorization": f"Bearer {cfg.token.get_secret_value()}"},
        timeout=httpx.Timeout(cfg.timeout_s, connect=10.0),
    )


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
