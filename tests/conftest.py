"""Shared fixtures: databases (SQLite by default, real PostgreSQL where asked) and service checks.

In CI (CI=true) a missing PostgreSQL or Redis fails the test loudly instead of skipping it.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session, sessionmaker

from model.db import make_engine, make_session_factory, upgrade

PG_URL = os.environ.get(
    "PULSEHUB_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("PULSEHUB_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


@pytest.fixture(autouse=True)
def _fresh_caches() -> Iterator[None]:
    """Tests reuse database URLs (in-memory SQLite, the PostgreSQL `test` database): a topic
    mix or dashboard aggregate cached by one test must not leak into the next."""
    from escalation.ticket_facts import clear_book_cache
    from reporting.common import clear_per_run_cache

    clear_book_cache()
    clear_per_run_cache()
    yield
    clear_book_cache()
    clear_per_run_cache()


def _reachable(url: str, default_port: int) -> bool:
    parts = urlsplit(url.replace("+psycopg", ""))
    try:
        with socket.create_connection(
            (parts.hostname or "127.0.0.1", parts.port or default_port), 2
        ):
            return True
    except OSError:
        return False


def require_service(name: str, url: str, port: int) -> None:
    if _reachable(url, port):
        return
    message = f"{name} is not reachable at {url}"
    if IN_CI:
        pytest.fail(f"{message}: CI must run the {name} tests (.ci/run starts the service)")
    pytest.skip(message)


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'pulsehub.db'}"


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A migrated, empty schema of its own on the real PostgreSQL, dropped afterwards."""
    require_service("PostgreSQL", PG_URL, 5432)
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in PG_URL else "?"
    url = f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def redis_url() -> str:
    require_service("Redis", REDIS_URL, 6379)
    return REDIS_URL


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_db_url(request) -> str:
    """Runs a test on SQLite and again on real PostgreSQL."""
    if request.param == "sqlite":
        return request.getfixturevalue("sqlite_url")
    return request.getfixturevalue("pg_url")


@pytest.fixture
def any_session(any_db_url: str) -> Iterator[Session]:
    """A session on a migrated database, on SQLite and again on real PostgreSQL."""
    upgrade(any_db_url)
    engine = make_engine(any_db_url)
    with make_session_factory(engine)() as s:
        yield s
    engine.dispose()


@pytest.fixture
def session(any_session: Session) -> Session:
    """`any_session` (a module or package with a `session` fixture of its own, e.g. one with
    seeded rows, overrides this one)."""
    return any_session


@pytest.fixture
def migrated_url(sqlite_url) -> str:
    upgrade(sqlite_url)
    return sqlite_url


@pytest.fixture
def factory(migrated_url) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(migrated_url)
    yield make_session_factory(engine)
    engine.dispose()
