"""The warehouse connector's options: built through its entry point, and every bad option a
ConfigError that names the key and the fix; an unreachable warehouse is retried, then raised."""

from __future__ import annotations

from typing import Any

import pytest

from connectors.base import Connector, SourceConfig
from connectors.errors import ConfigError, Retriable
from connectors.registry import available, build_source
from connectors.warehouse import WarehouseConnector
from connectors.warehouse.options import parse_options
from tests.connectors.warehouse_db import NO_WAIT, options

URL = "sqlite:///unused.db"
TABLE = {"table": "usage_by_day"}


def test_the_entry_point_builds_a_usage_connector_without_connecting() -> None:
    assert available()["warehouse"].value == "connectors.warehouse:build"
    built = build_source(SourceConfig("usage", "warehouse", options("sqlite:////nonexistent/x")))
    assert isinstance(built, WarehouseConnector) and isinstance(built, Connector)
    assert (built.name, built.kind, built.writer, built.api_usage(), built.calls) == (
        "usage", "usage", None, None, 0,
    )  # fmt: skip
    assert {n: (s.entity, s.dated) for n, s in built.streams.items()} == {
        "workspaces": ("workspace", False),
        "daily_usage": ("usage_day", True),
    }


def test_defaults_fill_what_a_source_leaves_out() -> None:
    parsed = parse_options({"url": URL, "workspaces": {"table": "ws"}, "daily_usage": TABLE})
    assert (parsed.page_size, parsed.lookback_days, parsed.history_days) == (1000, 3, 365)
    assert parsed.daily.cursor == "day" and parsed.daily.columns["active_users"] == "active_users"
    assert parsed.workspaces.cursor is None and parsed.workspaces.columns["id"] == "id"


def test_the_url_may_come_from_a_named_variable() -> None:
    given = {"url_env": "WH_URL", "workspaces": {"table": "ws"}, "daily_usage": TABLE}
    parsed = parse_options(given, environ={"WH_URL": "postgresql+psycopg://r:pw@wh/db"})
    assert parsed.url.host == "wh"
    with pytest.raises(ConfigError, match="key 'url_env': the environment variable WH_URL"):
        parse_options(given, environ={})


def _with(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"url": URL, "workspaces": {"table": "ws"}, "daily_usage": TABLE}
    return {k: v for k, v in (base | changes).items() if v is not None}


@pytest.mark.parametrize(
    ("given", "named"),
    [
        (_with(url=None), "keys 'url' / 'url_env'"),
        (_with(url="not a url"), "key 'url': not a SQLAlchemy URL"),
        (_with(page_size=0), "key 'page_size'"),
        (_with(lookback_days="a week"), "key 'lookback_days'"),
        (_with(pages=5), "key 'pages': Extra inputs"),
        (_with(workspaces=None), "key 'workspaces': Field required"),
        (_with(events=TABLE), "keys 'daily_usage' / 'events': give exactly one"),
        (_with(daily_usage=None), "keys 'daily_usage' / 'events': give exactly one"),
        (_with(daily_usage={"table": "t; drop table x"}), "key 'daily_usage.table'"),
        (_with(daily_usage={"table": "t", "query": "SELECT 1"}), "key 'daily_usage': give exac"),
        (_with(daily_usage={}), "key 'daily_usage': give exactly one of 'table' and 'query'"),
        (
            _with(daily_usage={"query": "SELECT 1", "columns": {"day": "d"}}),
            "'daily_usage.columns'",
        ),
        (_with(daily_usage={"table": "t", "columns": {"dau": "x"}}), "'daily_usage.columns.dau'"),
        (_with(daily_usage={"table": "t", "cursor": "logins"}), "key 'daily_usage.cursor'"),
        (_with(daily_usage={"table": "t", "cursor": "updated_at"}), "columns.updated_at': needed"),
        (_with(daily_usage={"table": "t", "columns": {"day": None}}), "'daily_usage.columns.day'"),
        (_with(workspaces={"table": "t", "colums": {}}), "key 'workspaces.colums'"),
        (_with(daily_usage=None, events={"table": "e", "cursor": "day"}), "key 'events.cursor'"),
    ],
)
def test_a_bad_option_names_its_key_and_the_fix(given: dict[str, Any], named: str) -> None:
    with pytest.raises(ConfigError) as exc:
        parse_options(given)
    assert named in str(exc.value) and "fix" in str(exc.value)


def test_a_missing_dialect_package_names_the_package_to_install() -> None:
    config = SourceConfig("usage", "warehouse", _with(url="snowflake://u:secret-pw@acct/db"))
    with pytest.raises(ConfigError, match="key 'url': no SQLAlchemy dialect") as exc:
        build_source(config)
    assert "secret-pw" not in str(exc.value)


def test_an_unreachable_warehouse_is_retried_then_raised_without_its_password(caplog) -> None:
    url = "postgresql+psycopg://reader:canary-wh-pw-31@127.0.0.1:9/none?connect_timeout=2"
    built = build_source(SourceConfig("usage", "warehouse", _with(url=url)))
    assert isinstance(built, WarehouseConnector)
    built.policy = NO_WAIT
    with caplog.at_level("DEBUG"), pytest.raises(Retriable) as exc:
        list(built.pull("workspaces", None))
    assert built.calls == NO_WAIT.max_attempts
    events = _with(daily_usage=None, events={"table": "raw_events"}, url=url)
    streamed = build_source(SourceConfig("usage", "warehouse", events))
    assert isinstance(streamed, WarehouseConnector)
    streamed.policy = NO_WAIT
    with pytest.raises(Retriable):  # the events' one streamed query: opening it is retried too
        list(streamed.pull("daily_usage", None))
    assert streamed.calls == NO_WAIT.max_attempts
    assert "127.0.0.1" in str(exc.value) and caplog.records  # the retries were logged
    for text in (str(exc.value), repr(built.engine), caplog.text):
        assert "canary-wh-pw-31" not in text
