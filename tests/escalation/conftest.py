"""Escalation fixtures: a fresh SQLite schema per test (Base.metadata.create_all) and the rules."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from escalation.config import EscalationConfig, load_rules
from model.db import make_engine, make_session_factory
from model.tables import Base


@pytest.fixture
def engine(tmp_path) -> Iterator[Engine]:
    eng = make_engine(f"sqlite:///{tmp_path / 'esc.db'}")
    Base.metadata.create_all(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def sessions(engine) -> sessionmaker[Session]:
    return make_session_factory(engine)


@pytest.fixture
def session(sessions) -> Iterator[Session]:
    with sessions() as s:
        yield s


@pytest.fixture
def config() -> EscalationConfig:
    return load_rules()
