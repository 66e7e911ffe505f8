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
def shipped() -> EscalationConfig:
    """The default rules exactly as shipped (tuned: some triggers off, severity floors)."""
    return load_rules()


@pytest.fixture
def config(shipped) -> EscalationConfig:
    """The shipped rules with every trigger on, one escalation per reason and no severity floor.

    Trigger and lifecycle tests exercise each rule's logic; the tuning levers the default
    adds on top (min_severity, one_per_account, per-account SLA) have their own tests.
    """
    rules = {
        name: rule.model_copy(update={"enabled": True, "min_severity": None, "per_account": False})
        for name, rule in shipped.rules.items()
    }
    return shipped.model_copy(update={"rules": rules, "one_per_account": []})
