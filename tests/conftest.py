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
MAX_WORKERS = 8  # each worker takes its own Redis database (15 down to 8)


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """Workers for `-n auto`: one more than the cores, as a third of the suite waits on
    subprocesses, sockets and sleeps rather than computing (on 2 cores the whole suite took
    10:36 with 3 workers, where 2 workers took 11:35 without the browser tests); capped, as
    each takes a Redis database. PULSEHUB_TEST_WORKERS overrides."""
    wanted = os.environ.get("PULSEHUB_TEST_WORKERS")
    if wanted:
        return max(0, min(MAX_WORKERS, int(wanted)))
    return min(MAX_WORKERS, (os.cpu_count() or 1) + 1)


def _redis_url() -> str:
    """The test Redis database (PULSEHUB_TEST_REDIS_URL's, 15 by default); each pytest-xdist
    worker takes its own below it (15, 14, ...), as the tests flush it before use."""
    base = urlsplit(os.environ.get("PULSEHUB_TEST_REDIS_URL", "redis://127.0.0.1:6379/15"))
    worker = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
    number = int(base.path.strip("/") or 0) - worker
    if number < 0:
        raise pytest.UsageError(
            f"PULSEHUB_TEST_REDIS_URL: database {base.path.strip('/') or 0} leaves worker "
            f"gw{worker} none of its own; use database {MAX_WORKERS - 1} or higher"
        )
    return base._replace(path=f"/{number}").geturl()


REDIS_URL = _redis_url()
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
