"""The built-in connectors (salesforce, zendesk, usage) are built by entry point like any other
source: from their PULSEHUB_<SYSTEM>__* blocks or, as more instances, from PULSEHUB_SOURCES."""

from __future__ import annotations

import json
import socket

import pytest

from connectors.errors import ConfigError
from connectors.salesforce import SalesforceConnector
from connectors.salesforce_describe import DESCRIBE_KEY, DescribeStore
from connectors.salesforce_fields import load_field_map
from connectors.usage import UsageConnector
from connectors.zendesk import ZendeskConnector
from pulsehub.runtime import Runtime
from pulsehub.settings import (
    SalesforceSettings,
    Settings,
    UsageSettings,
    ZendeskSettings,
    load_settings,
)
from sync.writeback import LOGICAL_FIELDS, allowed_ticket_tags

LOCAL = "http://127.0.0.1:9"  # never contacted: building a client sends nothing


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _zendesk(subdomain: str) -> dict[str, object]:
    return {"subdomain": subdomain, "email": "a@acme.test", "token": "t", "loopback_url": LOCAL}


def _session_salesforce() -> SalesforceSettings:
    return SalesforceSettings(
        instance_url="https://acme.my.salesforce.com",
        session_id="s",  # type: ignore[arg-type]
        loopback_url=LOCAL,
    )


def test_the_built_in_blocks_are_sources_built_by_their_entry_points(tmp_path) -> None:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path}/db.sqlite",
        salesforce=_session_salesforce(),
        zendesk=ZendeskSettings.model_validate(_zendesk("acme")),
        usage=UsageSettings(base_url=LOCAL, token="t"),  # type: ignore[arg-type]
    )
    rt = Runtime(settings)
    assert [(c.origin, c.config.connector) for c in rt.source_configs] == [
        ("PULSEHUB_SALESFORCE__*", "salesforce"),
        ("PULSEHUB_ZENDESK__*", "zendesk"),
        ("PULSEHUB_USAGE__*", "usage"),
    ]
    built = rt.connectors
    assert isinstance(built["salesforce"], SalesforceConnector)
    assert isinstance(built["zendesk"], ZendeskConnector)
    assert isinstance(built["usage"], UsageConnector)
    assert [c.name for c in built.values()] == ["salesforce", "zendesk", "usage"]
    store = built["salesforce"]._writer.account_fields.store
    assert isinstance(store, DescribeStore)  # the describe is kept in the database
    assert store.metadata.key == DESCRIBE_KEY
    assert built["zendesk"]._writer.allowed_tags == allowed_ticket_tags()


def test_two_zendesk_sources_are_built_from_the_variable_with_their_own_options(
    monkeypatch,
) -> None:
    sources = [
        {"name": "zd_eu", "connector": "zendesk", "options": _zendesk("acme-eu")},
        {
            "name": "zd_us",
            "connector": "zendesk",
            "options": {**_zendesk("acme-us"), "export_requests_per_minute": 30},
        },
    ]
    monkeypatch.setenv("PULSEHUB_SOURCES", json.dumps(sources))
    built = Runtime(load_settings()).connectors
    assert set(built) == {"zd_eu", "zd_us"}
    eu, us = built["zd_eu"], built["zd_us"]
    assert isinstance(eu, ZendeskConnector) and isinstance(us, ZendeskConnector)
    assert (eu.name, us.name) == ("zd_eu", "zd_us")
    assert eu.transport.api.subdomain == "acme-eu" and us.transport.api.subdomain == "acme-us"
    assert (eu.export_limiter.max_calls, us.export_limiter.max_calls) == (10, 30)
    assert eu._writer.allowed_tags == us._writer.allowed_tags == allowed_ticket_tags()


@pytest.mark.parametrize(
    ("options", "named"),
    [
        ({**_zendesk("x"), "export_requests_per_minute": 0}, "key 'export_requests_per_minute'"),
        ({**_zendesk("x"), "subdomian": "x"}, "key 'subdomian': Extra inputs are not permitted"),
        ({"subdomain": "x"}, "PULSEHUB_ZENDESK__TOKEN"),
    ],
)
def test_a_bad_built_in_option_names_the_source_key_and_fix(monkeypatch, options, named) -> None:
    source = {"name": "zd_eu", "connector": "zendesk", "options": options}
    monkeypatch.setenv("PULSEHUB_SOURCES", json.dumps([source]))
    with pytest.raises(ConfigError) as exc:
        Runtime(load_settings())
    assert str(exc.value).startswith("PULSEHUB_SOURCES item 1 (source 'zd_eu'): ")
    assert named in str(exc.value)


def test_a_bad_built_in_variable_still_names_the_variable(monkeypatch) -> None:
    monkeypatch.setenv("PULSEHUB_ZENDESK__EXPORT_REQUESTS_PER_MINUTE", "0")
    with pytest.raises(ConfigError, match=r"PULSEHUB_ZENDESK__EXPORT_REQUESTS_PER_MINUTE: .* fix"):
        load_settings()


def test_a_refused_salesforce_login_is_that_sources_error_and_the_others_still_build() -> None:
    salesforce = SalesforceSettings(
        username="u@acme.test",
        password="canary-pw-7",  # type: ignore[arg-type]
        loopback_url=f"http://127.0.0.1:{_closed_port()}",
    )
    settings = Settings(salesforce=salesforce, usage=UsageSettings(base_url=LOCAL, token="t"))  # type: ignore[arg-type]
    rt = Runtime(settings)
    assert set(rt.connectors) == {"usage"}
    assert len(rt.startup_errors) == 1
    assert rt.startup_errors[0].startswith("salesforce: login failed: ")
    assert "canary-pw-7" not in rt.startup_errors[0]


def test_an_injected_connector_replaces_the_configured_one_without_a_login() -> None:
    salesforce = SalesforceSettings(
        username="u@acme.test",
        password="p",  # type: ignore[arg-type]
        loopback_url=f"http://127.0.0.1:{_closed_port()}",
    )
    injected = object()
    rt = Runtime(Settings(salesforce=salesforce), overrides={"salesforce": injected})
    assert rt.connectors == {"salesforce": injected} and rt.startup_errors == []


@pytest.mark.parametrize("policy", ["own", "reassert"])
def test_the_reassert_policy_reads_back_the_written_fields(policy: str) -> None:
    settings = Settings(salesforce=_session_salesforce(), writeback_policy=policy)  # type: ignore[arg-type]
    connector = Runtime(settings).connectors["salesforce"]
    shipped = load_field_map()
    written = shipped.write_fields().api_names(LOGICAL_FIELDS)
    assert written
    read_back = set(written) - set(shipped.extra_fields)
    assert read_back
    extra = set(connector.fields.extra_fields)
    assert read_back <= extra if policy == "reassert" else not read_back & extra


def test_each_salesforce_source_keeps_its_own_describe(monkeypatch, tmp_path) -> None:
    org = {
        "instance_url": "https://acme.my.salesforce.com",
        "session_id": "s",
        "loopback_url": LOCAL,
    }
    sources = [{"name": n, "connector": "salesforce", "options": org} for n in ("sf_a", "sf_b")]
    monkeypatch.setenv("PULSEHUB_SOURCES", json.dumps(sources))
    monkeypatch.setenv("PULSEHUB_DATABASE_URL", f"sqlite:///{tmp_path}/db.sqlite")
    built = Runtime(load_settings()).connectors
    keys = [built[n]._writer.account_fields.store.metadata.key for n in ("sf_a", "sf_b")]
    assert keys == ["sf_a.Account.describe", "sf_b.Account.describe"]
