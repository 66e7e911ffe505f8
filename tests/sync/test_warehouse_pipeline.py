"""End to end: sandbox Salesforce and Zendesk, with a warehouse (configured as the source
"usage", built by its entry point) in the usage API's place. The warehouse holds what the
sandbox's usage API serves; the run reads it with no usage API call and scores the same.
The warehouse runs on SQLite and on the real PostgreSQL."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import (
    Column,
    Date,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
    func,
    select,
)

from connectors.usage import UsageConnector
from model.db import upgrade
from model.tables import Account, ExternalIdentity, HealthSnapshot, UsageDaily
from pulsehub.demo import sandbox_settings
from pulsehub.runtime import Runtime
from pulsehub.settings import Settings, SourceSettings, UsageSettings
from sandbox import Sandbox
from sync.pipeline import DEFAULT_HISTORY_DAYS
from tests.connectors.conftest import sandbox_usage

META = MetaData()
WORKSPACES = Table(
    "workspaces",
    META,
    Column("id", String(40), primary_key=True),
    Column("name", String(200)),
    Column("domain", String(200)),
    Column("crm_account_id", String(18)),
)
DAILY = Table(
    "daily_usage",
    META,
    Column("workspace_id", String(40), primary_key=True),
    Column("day", Date, primary_key=True),
    *(
        Column(n, Integer)
        for n in ("active_users", "logins", "feature_events", "features_used", "seats_used")
    ),
    Column("seats_purchased", Integer),
)
USAGE_API_PATHS = ("/usage/", "/api/2.0/export")


def copy_usage_api_into(warehouse_url: str, base_url: str) -> int:
    """Workspaces and the daily rows sync would read, as the sandbox's usage API serves them."""
    api = UsageConnector(sandbox_usage(base_url))
    start = dt.datetime.now(dt.UTC) - dt.timedelta(days=DEFAULT_HISTORY_DAYS)
    engine = create_engine(warehouse_url)
    META.create_all(engine)
    days = 0
    with engine.begin() as conn:
        for page in api.pull("workspaces", None):
            if page.records:
                conn.execute(
                    WORKSPACES.insert(),
                    [r.model_dump(exclude={"updated_at"}) for r in page.records],
                )
        for page in api.pull("daily_usage", None, start=start):
            if page.records:
                conn.execute(DAILY.insert(), [r.model_dump() for r in page.records])
                days += len(page.records)
    engine.dispose()
    return days


def warehouse_settings(base_url: str, db_url: str, warehouse_url: str) -> Settings:
    """The sandbox's settings with the usage API unset and the warehouse named `usage`."""
    seats = {"seats_used": "seats_used", "seats_purchased": "seats_purchased"}
    source = SourceSettings(
        name="usage",
        connector="warehouse",
        options={
            "url": warehouse_url,
            "page_size": 500,
            "workspaces": {"table": "workspaces"},
            "daily_usage": {"table": "daily_usage", "columns": seats},
        },
    )
    settings = sandbox_settings(base_url, db_url)
    return settings.model_copy(update={"usage": UsageSettings(), "sources": [source]})


def scores(rt: Runtime) -> dict[str, Any]:
    """Each scored account's latest score and usage signals, by its CRM id."""
    with rt.factory() as s:
        latest = s.execute(select(func.max(HealthSnapshot.as_of))).scalar_one()
        rows = s.execute(
            select(Account.crm_id, HealthSnapshot.score, HealthSnapshot.signals)
            .join(Account, Account.id == HealthSnapshot.account_id)
            .where(HealthSnapshot.as_of == latest)
        ).all()
    return {
        crm_id: (score, (signals or {}).get("active_users_per_seat"))
        for crm_id, score, signals in rows
    }


@pytest.mark.slow
def test_a_warehouse_usage_source_scores_like_the_usage_api(tmp_path, any_db_url) -> None:
    """The warehouse on SQLite, then on PostgreSQL; pulsehub's own database on SQLite.

    Both worlds stand at one fixed moment: on the real clock, today's partial usage rows are
    refreshed at the top of each hour, so two worlds built either side of it differ."""
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    with Sandbox(accounts=40, seed=5, now=now) as sb:
        warehouse_url = any_db_url
        n_days = copy_usage_api_into(warehouse_url, sb.base_url)
        db_url = f"sqlite:///{tmp_path / 'pulsehub.db'}"
        upgrade(db_url)
        rt = Runtime(warehouse_settings(sb.base_url, db_url, warehouse_url))
        assert type(rt.connectors["usage"]).__name__ == "WarehouseConnector"
        sb.clear_log()
        report = rt.sync()
        assert report.errors == []
        assert not [r for r in sb.requests if r["path"].startswith(USAGE_API_PATHS)]
        assert report.pulled["usage.daily_usage"] == n_days > 0
        with rt.factory() as s:
            stored = s.execute(select(func.count()).select_from(UsageDaily)).scalar_one()
            workspaces = s.execute(
                select(func.count())
                .select_from(ExternalIdentity)
                .where(ExternalIdentity.source == "usage", ExternalIdentity.account_id.is_not(None))
            ).scalar_one()
        assert stored == n_days and workspaces > 0
        from_warehouse = scores(rt)
        rt.close()
    assert sum(1 for _, per_seat in from_warehouse.values() if per_seat is not None) > 10

    with Sandbox(accounts=40, seed=5, now=now) as sb:  # the same world, usage from the API
        api_url = f"sqlite:///{tmp_path / 'api.db'}"
        upgrade(api_url)
        api_rt = Runtime(sandbox_settings(sb.base_url, api_url))
        assert api_rt.sync().errors == []
        from_api = scores(api_rt)
        api_rt.close()
    assert from_warehouse == from_api
