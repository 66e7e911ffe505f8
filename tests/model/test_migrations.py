"""The Alembic migrations build exactly the schema the ORM describes, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic import command
from sqlalchemy import inspect

from model.db import alembic_config, make_engine, upgrade
from model.tables import Base


def test_migrations_match_the_models_and_downgrade_cleanly(any_db_url) -> None:
    upgrade(any_db_url)
    command.check(alembic_config(any_db_url))  # raises if autogenerate would find a difference
    engine = make_engine(any_db_url)
    assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())
    command.downgrade(alembic_config(any_db_url), "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    engine.dispose()
