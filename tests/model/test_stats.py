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


def _estimated_linked(session) -> float:
    q = (
        "EXPLAIN (FORMAT JSON) SELECT external_id FROM external_identities "
        "WHERE kind = 'organization' AND status = 'linked'"
    )
    return float(session.execute(text(q)).scalar_one()[0]["Plan"]["Plan Rows"])


@pytest.mark.postgres
def test_a_whole_book_pass_plans_on_the_identities_its_transaction_matched(pg_url) -> None:
    """A first sync matches every identity and re-points every row in one transaction, on
    tables never analyzed: the statistics views do not count uncommitted rows, so the pass
    analyzes the identities itself (ANALYZE samples its own transaction's rows) and the join
    is planned on thousands of identities, not on a guess of one."""
    from model.links import plan_on_fresh_statistics

    upgrade(pg_url)
    engine = make_engine(pg_url)
    try:
        with transaction(make_session_factory(engine)) as s:
            s.execute(text("ALTER TABLE external_identities SET (autovacuum_enabled = false)"))
            s.execute(text(
                "INSERT INTO external_identities (source, kind, external_id, status, domains, "
                "candidates, manual, attributes, is_deleted, updated_at) SELECT 'zendesk', 'organization', "
                "g::text, 'linked', '[]', '[]', false, '{}', false, now() "
                "FROM generate_series(1, 3000) g"
            ))  # fmt: skip
            assert _estimated_linked(s) < 100, "planned on a guess before"
            assert "external_identities" in plan_on_fresh_statistics(s)
            assert _estimated_linked(s) > 2_000
            s.rollback()
    finally:
        engine.dispose()


def test_sqlite_whole_book_pass_analyzes_nothing(migrated_url) -> None:
    from model.links import plan_on_fresh_statistics

    engine = make_engine(migrated_url)
    try:
        with transaction(make_session_factory(engine)) as s:
            assert plan_on_fresh_statistics(s) == []
    finally:
        engine.dispose()
