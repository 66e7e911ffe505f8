"""Settings from the environment, config errors that name the variable, client wiring."""

from __future__ import annotations

import http.server
import threading

import pytest
import requests

from connectors.loopback import LoopbackRedirect
from connectors.salesforce_source import build_salesforce
from connectors.usage_source import build_usage
from connectors.zendesk_source import build_zendesk
from pulsehub.settings import (
    ConfigError,
    SalesforceSettings,
    UsageSettings,
    ZendeskSettings,
    load_settings,
)


def test_nested_env_and_secrets_are_masked(monkeypatch) -> None:
    monkeypatch.setenv("PULSEHUB_DATABASE_URL", "postgresql://u:pw@db/pulsehub")
    monkeypatch.setenv("PULSEHUB_ZENDESK__SUBDOMAIN", "acme")
    monkeypatch.setenv("PULSEHUB_ZENDESK__TOKEN", "canary-zd-token-123")
    s = load_settings()
    assert s.database_url == "postgresql+psycopg://u:pw@db/pulsehub"
    assert s.zendesk.subdomain == "acme" and s.zendesk.configured
    assert "canary-zd-token-123" not in repr(s) and "canary-zd-token-123" not in str(s.model_dump())


@pytest.mark.parametrize(
    ("var", "value", "named"),
    [
        ("PULSEHUB_DATABASE_URL", "mysql://x", "PULSEHUB_DATABASE_URL"),
        ("PULSEHUB_SALESFORCE__BUDGET_RESERVE", "lots", "PULSEHUB_SALESFORCE__BUDGET_RESERVE"),
        ("PULSEHUB_LOCK_TTL_S", "-x", "PULSEHUB_LOCK_TTL_S"),
    ],
)
def test_bad_setting_names_the_variable_and_fix(
    monkeypatch, var: str, value: str, named: str
) -> None:
    monkeypatch.setenv(var, value)
    with pytest.raises(ConfigError) as exc:
        load_settings()
    assert named in str(exc.value) and "fix" in str(exc.value)


def test_unconfigured_systems_explain_what_to_set() -> None:
    with pytest.raises(ConfigError, match="PULSEHUB_SALESFORCE__INSTANCE_URL"):
        build_salesforce(SalesforceSettings())
    with pytest.raises(ConfigError, match="PULSEHUB_ZENDESK__SUBDOMAIN"):
        build_zendesk(ZendeskSettings())
    with pytest.raises(ConfigError, match="PULSEHUB_USAGE__BASE_URL"):
        build_usage(UsageSettings())


def test_loopback_redirect_refuses_remote_hosts() -> None:
    with pytest.raises(ConfigError, match="this machine"):
        LoopbackRedirect("http://10.0.0.1:80")


def test_loopback_redirect_sends_https_calls_to_the_local_server() -> None:
    seen: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(f"{self.headers['Host']} {self.path}")
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        session = requests.Session()
        session.mount("https://", LoopbackRedirect(f"http://127.0.0.1:{server.server_port}"))
        r = session.get("https://acme.my.salesforce.com/services/data/v59.0/query/?q=SELECT+Id")
        assert r.status_code == 200
        assert seen == [f"127.0.0.1:{server.server_port} /services/data/v59.0/query/?q=SELECT+Id"]
    finally:
        server.shutdown()


def test_misspelt_nested_variable_fails_at_start(monkeypatch) -> None:
    monkeypatch.setenv("PULSEHUB_SALESFORCE__SESION_ID", "x")
    with pytest.raises(ConfigError, match="PULSEHUB_SALESFORCE__SESION_ID"):
        load_settings()


def test_zendesk_adapter_lets_urllib3_resend_reads_only() -> None:
    """A comment PUT re-sent by urllib3 after a reset would post twice (the policy retries
    the idempotent writes itself)."""
    settings = ZendeskSettings(subdomain="acme", email="a@acme.test", token="t")
    session = build_zendesk(settings).tickets.session
    for scheme in ("https://", "http://"):
        retry = session.get_adapter(f"{scheme}acme.zendesk.com").max_retries
        assert retry.total == 3 and retry.allowed_methods == {"GET", "HEAD", "OPTIONS"}
