"""Engine, sessions and schema migrations for the unified model."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


URL_FORMS = "sqlite:///path/to/file.db or postgresql+psycopg://user:password@host:5432/dbname"


def normalize_database_url(url: str) -> str:
    """`url` as SQLAlchemy wants it; a ValueError naming the accepted forms when it is not one."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    if not url.startswith(("sqlite", "postgresql")):
        raise ValueError(f"not a supported database URL; use {URL_FORMS}")
    try:
        make_url(url)
    except ArgumentError:
        raise ValueError(f"cannot parse this database URL; use {URL_FORMS}") from None
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url


def make_engine(url: str, *, echo: bool = False) -> Engine:
    """Build an engine; SQLite gets WAL, foreign keys and a busy timeout so workers can share it."""
    if url.startswith("sqlite"):
        engine = create_engine(url, echo=echo, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        return engine
    # a host that drops packets fails within 10 s rather than hanging the command
    engine = create_engine(url, echo=echo, pool_pre_ping=True, connect_args={"connect_timeout": 10})
    event.listen(engine, "connect", _check_client_while_running)
    return engine


CLIENT_CHECK_MS = 10_000


def _check_client_while_running(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
    """PostgreSQL notices that a client went away only when it next writes to it, so a killed
    `pulsehub sync` left its query running on the server (38 minutes, seen at 50,000
    accounts), holding locks and a core. From PostgreSQL 14, `client_connection_check_interval`
    makes the backend check the socket while a query runs and cancel it when the client is
    gone. Older servers do not know the setting: nothing is set."""
    if dbapi_conn.info.server_version < 140000:
        return
    with dbapi_conn.cursor() as cur:
        cur.execute(f"SET client_connection_check_interval = {CLIENT_CHECK_MS}")
    dbapi_conn.commit()  # a SET in a transaction later rolled back would be undone


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error."""
    with factory() as session, session.begin():
        yield session


def alembic_config(url: str):  # type: ignore[no-untyped-def]
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the schema at `url` to `revision` (Alembic)."""
    from alembic import command

    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).expanduser().parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(url), revision)
    log.info("database at %s upgraded to %s", redact_url(url), revision)


def redact_url(url: str) -> str:
    """Hide the password in a database URL before it is logged or shown."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def database_problem(engine: Engine, *, schema: bool = True) -> str | None:
    """Why the database behind `engine` cannot be used now, with the fix; None when it can."""
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy.exc import DBAPIError

    try:
        with engine.connect() as conn:
            current = MigrationContext.configure(conn).get_current_revision()
    except DBAPIError as exc:
        return explain_database_error(exc, engine.url.database) or f"cannot use it: {exc.orig}"
    return schema_problem(current) if schema else None


def schema_problem(current: str | None) -> str | None:
    """What to do when the stored schema revision is not this code's head; None when it is."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory(str(MIGRATIONS_DIR))
    head = script.get_current_head()
    if current == head:
        return None
    if current is None:
        return "the database has no pulsehub schema yet — run `pulsehub db upgrade`"
    if current in {rev.revision for rev in script.walk_revisions()}:
        return f"the schema is at revision {current}, this pulsehub needs {head} — run `pulsehub db upgrade`"
    return (
        f"schema revision {current} is unknown to this pulsehub (a newer version made it?) — "
        "upgrade pulsehub or point at another database"
    )


def explain_database_error(exc: Exception, sqlite_path: str | None = None) -> str | None:
    """A database failure the operator can fix (unreachable, not a database, no schema, locked),
    worded with the fix; None for anything else, which is a bug and keeps its traceback."""
    text = str(getattr(exc, "orig", None) or exc)
    low = text.lower()
    if "file is not a database" in low:
        return f"{sqlite_path or 'the file'} is not a SQLite database — use a new file or a pulsehub database"
    if "unable to open database file" in low:
        parent = Path(sqlite_path or ".").expanduser().parent
        if sqlite_path and not parent.is_dir():
            return f"directory {parent} does not exist — create it, or run `pulsehub db upgrade` (creates it)"
        return f"cannot open SQLite file {sqlite_path or ''} — check the path and its permissions"
    if "no such table" in low or ("relation" in low and "does not exist" in low):
        return "the database has no pulsehub schema yet — run `pulsehub db upgrade`"
    if "database is locked" in low:
        return "the SQLite file stayed locked by another process — retry, or use PostgreSQL for concurrent workers"
    for needle, fix in _POSTGRES_PROBLEMS:
        if needle in low:
            first = text.strip().splitlines()[0]
            return f"{first} — {fix}"
    return None


_POSTGRES_PROBLEMS = (
    ("connection refused", "start PostgreSQL there or fix the host and port in the URL"),
    ("timeout expired", "check that the host is reachable, or fix the host and port in the URL"),
    ("could not translate host name", "fix the host name in the URL"),
    ("password authentication failed", "fix the user or password in the URL"),
    ("does not exist", "create the database (createdb NAME) or fix its name in the URL"),
    ("connection failed", "check the server, or fix the host and port in the URL"),
)
