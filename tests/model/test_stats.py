"""A bulk-loaded table is analyzed before the next stage plans on it (PostgreSQL)."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import text

from model.db import make_engine, make_session_factory, transaction, upgrade
from model.stats import BASE, analyze_stale

LOAD = """INSERT INTO written_state (system, target_kind, target_id, field, value, written_at)
SELECT 'zendesk', 'ticket', g::text, 'tag:health_red', '1', now()
FROM generate_series(1, :n) AS g"""


def _analyzed(session) -> bool:
    q = "SELECT last_analyze IS NOT NULL FROM pg_stat_user_tables WHERE relname = 'written_state' AND schemaname = current_schema()"
    return bool(session.execute(text(q)).scalar_one())


def _until(factory, want: list[str]) -> list[str]:
    """The table counters reach other sessions within about a second: ask until they do."""
    deadline, got = time.monotonic() + 15, None
    while time.monotonic() < deadline:
        with transaction(factory) as s:
            got = analyze_stale(s)
        if got == want:
            return got
        time.sleep(0.3)
    return got or []


@pytest.mark.postgres
def test_a_bulk_loaded_table_is_analyzed_once(pg_url) -> None:
    upgrade(pg_url)
    engine = make_engine(pg_url)
    factory = make_session_factory(engine)
    try:
        with transaction(factory) as s:  # only this call may analyze it, whatever the server
            s.execute(text("ALTER TABLE written_state SET (autovacuum_enabled = false)"))
            s.execute(text(LOAD), {"n": BASE // 10})  # under the rule's floor
        time.sleep(1.5)
        with transaction(factory) as s:
            assert analyze_stale(s) == [] and not _analyzed(s)
        with transaction(factory) as s:
            s.execute(text("DELETE FROM written_state"))
            s.execute(text(LOAD), {"n": BASE + 1_000})
        assert _until(factory, ["written_state"]) == ["written_state"]
        with transaction(factory) as s:
            assert _analyzed(s)
            rows = s.execute(
                text("SELECT reltuples FROM pg_class WHERE oid = 'written_state'::regclass")
            ).scalar_one()
        assert rows > BASE, "the planner now knows the table's size"
        time.sleep(1.5)
        with transaction(factory) as s:
            assert analyze_stale(s) == [], "analyzed: nothing changed since"
    finally:
        engine.dispose()


def test_sqlite_has_nothing_to_analyze(migrated_url) -> None:
    engine = make_engine(migrated_url)
    try:
        with transaction(make_session_factory(engine)) as s:
            assert analyze_stale(s) == []
    finally:
        engine.dispose()
