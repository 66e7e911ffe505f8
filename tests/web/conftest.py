"""Dashboard fixtures: a migrated SQLite database filled with a book of business, and the app."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy.orm import Session, sessionmaker

from model.db import make_engine, make_session_factory, transaction, upgrade
from pulsehub.settings import Settings
from pulsehub.web.app import create_app
from tests.web.factories import Book, fill
from tests.web.server import CHROMIUM_ARGS, require_chromium, screenshot_dir, serve

VIEWER_TOKEN = "viewer-token-123"
OPERATOR_TOKEN = "operator-token-456"


def web_settings(url: str) -> Settings:
    tokens = {"reader": SecretStr(VIEWER_TOKEN), "ops:operator": SecretStr(OPERATOR_TOKEN)}
    return Settings(database_url=url, web_tokens=tokens)


@pytest.fixture(scope="session")
def book_template(tmp_path_factory) -> tuple[Path, Book]:
    """Migrate and fill one database per test session; tests get copies of the file."""
    path = tmp_path_factory.mktemp("book") / "template.db"
    url = f"sqlite:///{path}"
    upgrade(url)
    engine = make_engine(url)
    with transaction(make_session_factory(engine)) as session:
        book = fill(session, 120)
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path, book


@pytest.fixture
def book_factory(book_template, tmp_path) -> Iterator[tuple[sessionmaker[Session], Book, str]]:
    """A fresh copy of the filled database per test (tests that act change it)."""
    template, book = book_template
    shutil.copy(template, tmp_path / "web.db")
    url = f"sqlite:///{tmp_path / 'web.db'}"
    engine = make_engine(url)
    yield make_session_factory(engine), book, url
    engine.dispose()


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory) -> Path:
    """A database filled the way a user fills one: `pulsehub demo` against the sandbox, plus
    twelve weeks of weekly history from scoring's own backfill (trends need a past)."""
    import datetime as dt
    import io

    from rich.console import Console
    from sqlalchemy import func, select

    from model.tables import HealthSnapshot
    from pulsehub.demo import run_demo
    from scoring.config import load_scorecard
    from scoring.service import backfill_snapshots

    path = tmp_path_factory.mktemp("demo") / "demo.db"
    url = f"sqlite:///{path}"
    assert run_demo(Console(file=io.StringIO()), accounts=60, seed=7, database_url=url) == 0
    engine = make_engine(url)
    factory = make_session_factory(engine)
    with factory() as session:
        today = session.scalar(select(func.max(HealthSnapshot.as_of)))
    assert today is not None, "the demo scored no account"
    with transaction(factory) as session:
        week = dt.timedelta(days=7)
        backfill_snapshots(session, today - 12 * week, today - week, load_scorecard(), 7)
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


@pytest.fixture
def demo_factory(demo_template, tmp_path) -> Iterator[tuple[sessionmaker[Session], str]]:
    """A fresh copy of the demo database per test."""
    shutil.copy(demo_template, tmp_path / "demo.db")
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    engine = make_engine(url)
    yield make_session_factory(engine), url
    engine.dispose()


@pytest.fixture(scope="module")
def read_only_app(book_template, tmp_path_factory):  # type: ignore[no-untyped-def]
    """One app per module for tests that only read (they must not change the database)."""
    template, _ = book_template
    path = tmp_path_factory.mktemp("ro") / "web.db"
    shutil.copy(template, path)
    engine = make_engine(f"sqlite:///{path}")
    yield create_app(web_settings(f"sqlite:///{path}"), make_session_factory(engine))
    engine.dispose()


@pytest.fixture
def app_parts(book_factory):  # type: ignore[no-untyped-def]
    factory, book, url = book_factory
    return create_app(web_settings(url), factory), factory, book


def client_for(app, token: str | None = None) -> TestClient:  # type: ignore[no-untyped-def]
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return TestClient(app, headers=headers, follow_redirects=False)


# --- headless Chromium against a real uvicorn server (browser tests) ---------------------


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    path = require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def shots(tmp_path_factory) -> Path:
    return screenshot_dir(tmp_path_factory.mktemp("screenshots"))


@pytest.fixture
def site(demo_factory) -> Iterator[tuple[str, Any]]:
    factory, url = demo_factory
    with serve(create_app(web_settings(url), factory)) as base:
        yield base, factory
