"""Migration 0007 keys external ids by source: a database at 0006 with rows of every table
migrates losslessly (every row whole, plus its back-filled source), two sources of one kind
can then share an id, and the downgrade gives the 0006 rows back — on SQLite and PostgreSQL.

The rows are fixtures/rows_0004.json (a sandbox sync's rows) taken through 0005 and 0006.
"""

from __future__ import annotations

import importlib
import json
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command

from model.db import alembic_config, make_engine, upgrade
from tests.model.test_neutral_migration import FIXTURE, _dump, _load, _typed

MIGRATION = importlib.import_module("model.migrations.versions.0007_source_keys")


def _expected(table: str, row: dict[str, Any], crm: str, helpdesk: str) -> dict[str, Any]:
    """What 0007 must make of one 0006 row: the row whole, plus its source."""
    new = dict(row)
    if table == "accounts":
        new["crm_source"] = crm if row["crm_id"] is not None else None
    if table in ("contacts", "opportunities"):
        new["source"] = crm
    if table == "tickets":
        new["source"] = helpdesk
    if table == "escalations":
        new["helpdesk_source"] = helpdesk if row["helpdesk_ticket_id"] is not None else None
    return new


def _sorted(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(rows, key=lambda r: json.dumps(r, sort_keys=True, default=str))


def test_source_keys_migration_back_fills_every_row_and_downgrades(any_db_url) -> None:
    upgrade(any_db_url, "0004")
    _load(any_db_url, json.loads(FIXTURE.read_text()))
    upgrade(any_db_url, "0006")
    before = _dump(any_db_url)
    assert before["tickets"] and before["contacts"] and before["opportunities"]
    assert any(e["helpdesk_ticket_id"] for e in before["escalations"])
    # the sources the stored rows name (the sandbox sync's built-in names)
    helpdesk = {r["source"] for r in before["external_identities"] if r["kind"] == "organization"}
    crm = {r["system"] for r in before["written_state"] if r["target_kind"] == "account"}
    assert helpdesk == {"zendesk"} and crm == {"salesforce"}

    upgrade(any_db_url, "0007")
    after = _dump(any_db_url)
    expected = {
        name: _sorted([_expected(name, r, "salesforce", "zendesk") for r in rows])
        for name, rows in before.items()
    }
    assert after == expected

    # two helpdesk instances may now both hold ticket 1; one instance still may not twice
    engine = make_engine(any_db_url)
    ticket = {k: _typed(v) for k, v in after["tickets"][0].items()}
    ticket["id"] = max(r["id"] for r in after["tickets"]) + 1  # the fixture set ids: no sequence
    tickets = sa.Table("tickets", sa.MetaData(), autoload_with=engine)
    with engine.begin() as conn:
        conn.execute(sa.insert(tickets), [{**ticket, "source": "acquired"}])  # fmt: skip
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
        conn.execute(sa.insert(tickets), [{**ticket, "id": ticket["id"] + 1, "source": "zendesk"}])  # fmt: skip
    engine.dispose()

    with pytest.raises(RuntimeError, match="from two sources"):
        command.downgrade(alembic_config(any_db_url), "0006")
    engine = make_engine(any_db_url)
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM tickets WHERE source = 'acquired'"))
    engine.dispose()
    command.downgrade(alembic_config(any_db_url), "0006")
    assert _dump(any_db_url) == before


def test_back_fill_takes_the_source_name_the_rows_store(sqlite_url) -> None:
    upgrade(sqlite_url, "0004")
    _load(sqlite_url, json.loads(FIXTURE.read_text()))
    upgrade(sqlite_url, "0006")
    engine = make_engine(sqlite_url)
    with engine.begin() as conn:  # a helpdesk source configured under another name
        conn.execute(sa.text("UPDATE external_identities SET source = 'desk' WHERE kind = 'organization'"))  # fmt: skip
    engine.dispose()
    upgrade(sqlite_url, "0007")
    after = _dump(sqlite_url)
    assert {r["source"] for r in after["tickets"]} == {"desk"}
    assert {r["source"] for r in after["contacts"]} == {"salesforce"}
