"""A small usage warehouse for the warehouse connector's tests: its own column names, so the
column mapping is exercised, and integer workspace ids, as warehouses often have."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    Column,
    Date,
    DateTime,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
)

from connectors.base import SourceConfig
from connectors.http import RetryPolicy
from connectors.warehouse import WarehouseConnector, build

NO_WAIT = RetryPolicy(max_attempts=3, initial_wait=0, max_wait=0, sleep=lambda _: None)
TODAY = dt.date(2026, 3, 20)
META = MetaData()
WORKSPACES = Table(
    "crm_workspaces",
    META,
    Column("ws_id", Integer, primary_key=True),
    Column("ws_name", String(80)),
    Column("web_domain", String(80)),
    Column("sfdc_id", String(18)),
    Column("modified_at", DateTime(timezone=True)),
)
DAILY = Table(
    "usage_by_day",
    META,
    Column("ws_id", Integer, nullable=False),
    Column("usage_date", Date, nullable=False),
    Column("dau", Integer),
    Column("logins", Integer),
    Column("feature_events", Integer),
    Column("features_used", Integer),
    Column("loaded_at", DateTime(timezone=True)),
)
EVENTS = Table(
    "raw_events",
    META,
    Column("account_ws", String(20)),
    Column("occurred_at", DateTime(timezone=True)),
    Column("user_id", String(40)),
    Column("event_name", String(40)),
    Column("feature", String(40)),
    Column("insert_id", String(40)),
)
WORKSPACE_COLUMNS = {
    "id": "ws_id",
    "name": "ws_name",
    "domain": "web_domain",
    "crm_account_id": "sfdc_id",
    "updated_at": "modified_at",
}
DAILY_COLUMNS = {"workspace_id": "ws_id", "day": "usage_date", "active_users": "dau"}
EVENT_COLUMNS = {
    "workspace_id": "account_ws",
    "time": "occurred_at",
    "distinct_id": "user_id",
    "event": "event_name",
}


def make_warehouse(url: str) -> Engine:
    engine = create_engine(url)
    META.create_all(engine)
    return engine


def at(day: dt.date, hour: int = 12) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), dt.UTC)


def daily_rows(workspaces: int, days: int, *, loaded: dt.datetime | None = None) -> list[dict]:
    """`days` days up to TODAY for each workspace; dau = workspace * 100 + days back."""
    return [
        {
            "ws_id": w,
            "usage_date": TODAY - dt.timedelta(days=d),
            "dau": w * 100 + d,
            "logins": d,
            "feature_events": 2 * d,
            "features_used": 1,
            "loaded_at": loaded or at(TODAY - dt.timedelta(days=d), 23),
        }
        for w in range(1, workspaces + 1)
        for d in range(days)
    ]


def insert(engine: Engine, table: Table, rows: list[dict[str, Any]]) -> None:
    with engine.begin() as conn:
        conn.execute(table.insert(), rows)


def options(url: str, **extra: Any) -> dict[str, Any]:
    """Table mode over the test tables; the metric columns keep the defaults' names."""
    base: dict[str, Any] = {
        "url": url,
        "workspaces": {"table": "crm_workspaces", "columns": WORKSPACE_COLUMNS},
        "daily_usage": {"table": "usage_by_day", "columns": DAILY_COLUMNS},
    }
    return base | extra


def connector(url: str, **extra: Any) -> WarehouseConnector:
    built = build(SourceConfig("usage", "warehouse", options(url, **extra)))
    assert isinstance(built, WarehouseConnector)
    built.policy = NO_WAIT
    return built
