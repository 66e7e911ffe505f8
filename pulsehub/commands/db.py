"""One database session for a CLI command, on the configured database."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session


@contextmanager
def command_session() -> Iterator[Session]:
    """A transaction on PULSEHUB_DATABASE_URL: committed on success, engine disposed after."""
    from model.db import make_engine, make_session_factory, transaction
    from pulsehub.settings import get_settings

    engine = make_engine(get_settings().database_url)
    try:
        with transaction(make_session_factory(engine)) as session:
            yield session
    finally:
        engine.dispose()
