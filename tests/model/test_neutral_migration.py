"""Migration 0005 keeps every value a sandbox sync stored at 0004, under its new name, and the
downgrade gives the database back as it was: on SQLite and on the real PostgreSQL.

fixtures/rows_0004.json holds rows of every table as the code before the neutral rename
wrote them (made by fixtures/make_rows_0004.py at that code). The renames are the migration's
own tables; that they name the model's columns is tests/model/test_migrations.py's check, and
every row is compared whole, so a value lost or left under an old name fails here.
"""

from __future__ import annotations

import datetime as dt
import importlib
import json
from pathlib import Path
from typing import Any

from alembic import command
from sqlalchemy import MetaData, create_engine, insert, select

from model.db import alembic_config, upgrade

FIXTURE = Path(__file__).parent / "fixtures" / "rows_0004.json"
MIGRATION = importlib.import_module("model.migrations.versions.0005_neutral_model")
COLUMNS: dict[str, dict[str, str]] = MIGRATION.COLUMNS
KINDS: dict[str, str] = MIGRATION.KINDS
# JSON that stored column or kind names: escalation details keep the account's facts
# ({"sf_id", "owner_sf_id"}) and past episodes' ticket/task; run stats count by kind
JSON_KEYS = {old: new for renames in COLUMNS.values() for old, new in renames.items()} | KINDS


def _typed(value: Any) -> Any:
    """A fixture value as the column takes it (dates and aware UTC datetimes)."""
    if isinstance(value, dict) and "$datetime" in value:
        when = dt.datetime.fromisoformat(value["$datetime"])
        return when if when.tzinfo else when.replace(tzinfo=dt.UTC)
    if isinstance(value, dict) and "$date" in value:
        return dt.date.fromisoformat(value["$date"])
    return value


def _plain(value: Any) -> Any:
    """A stored value in a form both databases give back alike."""
    if isinstance(value, dt.datetime):
        when = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
        return {"$datetime": when.astimezone(dt.UTC).isoformat()}
    if isinstance(value, dt.date):
        return {"$date": value.isoformat()}
    return value


def _tables(url: str) -> tuple[Any, MetaData]:
    engine = create_engine(url)
    meta = MetaData()
    meta.reflect(engine)
    meta.remove(meta.tables["alembic_version"])
    return engine, meta


def _load(url: str, rows: dict[str, list[dict[str, Any]]]) -> None:
    engine, meta = _tables(url)
    with engine.begin() as conn:
        for table in meta.sorted_tables:
            typed = [{k: _typed(v) for k, v in r.items()} for r in rows[table.name]]
            if typed:
                conn.execute(insert(table), typed)
    engine.dispose()


def _dump(url: str) -> dict[str, list[dict[str, Any]]]:
    engine, meta = _tables(url)
    out = {}
    with engine.connect() as conn:
        for name, table in meta.tables.items():
            found = [
                {k: _plain(v) for k, v in r._mapping.items()} for r in conn.execute(select(table))
            ]
            out[name] = sorted(found, key=lambda r: json.dumps(r, sort_keys=True, default=str))
    engine.dispose()
    return out


def _deep(value: Any, names: dict[str, str]) -> Any:
    if isinstance(value, dict):
        return {names.get(k, k): _deep(v, names) for k, v in value.items()}
    if isinstance(value, list):
        return [_deep(v, names) for v in value]
    return value


def _renamed(table: str, row: dict[str, Any]) -> dict[str, Any]:
    """What 0005 must make of one 0004 row."""
    new = {COLUMNS.get(table, {}).get(k, k): v for k, v in row.items()}
    if table == "external_identities":
        new["kind"] = MIGRATION.IDENTITY_KIND[row["source"]]
    if table == "outbox":
        old_kind = row["kind"]
        new["kind"] = KINDS[old_kind]
        if row["key"].startswith(f"{old_kind}:"):
            new["key"] = KINDS[old_kind] + row["key"][len(old_kind) :]
        new["payload"], new["result"] = (
            _deep(row["payload"], JSON_KEYS),
            _deep(row["result"], JSON_KEYS),
        )
    if table == "escalations":
        new["details"] = _deep(row["details"], JSON_KEYS)
    if table == "sync_runs":
        new["stats"] = _deep(row["stats"], JSON_KEYS)
    if table == "accounts":
        attributes = MIGRATION.ACCOUNT_ATTRIBUTES
        new["attributes"] = {attributes.get(k, k): v for k, v in row["attributes"].items()}
    return new


def test_neutral_migration_keeps_every_value_and_downgrades(any_db_url) -> None:
    rows = json.loads(FIXTURE.read_text())
    upgrade(any_db_url, "0004")
    _load(any_db_url, rows)
    before = _dump(any_db_url)
    assert all(before[name] for name in before), "the fixture fills every table"
    assert {r["kind"] for r in before["outbox"]} == set(KINDS), "every outbox kind is stored"

    upgrade(any_db_url, "0005")
    after = _dump(any_db_url)
    expected = {
        name: sorted(
            (_renamed(name, r) for r in found),
            key=lambda r: json.dumps(r, sort_keys=True, default=str),
        )
        for name, found in before.items()
    }
    assert after == expected
    comment = next(r for r in after["outbox"] if r["kind"] == "helpdesk_comment")
    assert comment["payload"]["helpdesk_ticket_id"] in {
        e["helpdesk_ticket_id"] for e in after["escalations"]
    }
    episodes = [e for r in after["escalations"] for e in r["details"].get("episodes", [])]
    assert any(e.get("helpdesk_ticket_id") for e in episodes)
    assert all("crm_id" in r["details"]["account"] for r in after["escalations"])
    assert {r["kind"] for r in after["external_identities"]} == {"organization", "workspace"}
    assert any("organization_id" in r["attributes"] for r in after["accounts"])

    command.downgrade(alembic_config(any_db_url), "0004")
    assert _dump(any_db_url) == before
