"""The configured database for a CLI command: checked at start, then one session."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine
from sqlalchemy.orm import Session

DATABASE_VARIABLE = "PULSEHUB_DATABASE_URL"


def require_database(
    engine: Engine, *, variable: str = DATABASE_VARIABLE, schema: bool = True
) -> Engine:
    """`engine`, once it reaches a database at this code's schema; else a ConfigError naming
    `variable` and the fix (unreachable, not a database, missing directory, no `db upgrade`)."""
    from model.db import database_problem
    from pulsehub.settings import ConfigError

    problem = database_problem(engine, schema=schema)
    if problem:
        engine.dispose()
        url = engine.url.render_as_string(hide_password=True)
        raise ConfigError(f"{variable}={url}: {problem}")
    return engine


def open_database(url: str, *, variable: str = DATABASE_VARIABLE) -> Engine:
    """An engine on `url`, checked now (see `require_database`)."""
    from model.db import make_engine, normalize_database_url
    from pulsehub.settings import ConfigError

    try:
        url = normalize_database_url(url)
    except ValueError as exc:
        raise ConfigError(f"{variable}: {exc}") from None
    return require_database(make_engine(url), variable=variable)


def upgrade_database(url: str, revision: str, *, variable: str = DATABASE_VARIABLE) -> None:
    """`model.db.upgrade`, with an unreachable or unusable database as a ConfigError."""
    from sqlalchemy.exc import DBAPIError

    from model.db import explain_database_error, redact_url, upgrade
    from pulsehub.settings import ConfigError

    try:
        upgrade(url, revision)
    except DBAPIError as exc:
        problem = explain_database_error(exc, url.removeprefix("sqlite:///"))
        if problem is None:
            raise
        raise ConfigError(f"{variable}={redact_url(url)}: {problem}") from exc


@contextmanager
def command_session() -> Iterator[Session]:
    """A transaction on PULSEHUB_DATABASE_URL: committed on success, engine disposed after."""
    from model.db import make_session_factory, transaction
    from pulsehub.settings import get_settings

    engine = open_database(get_settings().database_url)
    try:
        with transaction(make_session_factory(engine)) as session:
            yield session
    finally:
        engine.dispose()
