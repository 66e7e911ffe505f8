"""What the hostile-input modules share: a count of inputs tried and a fresh migrated SQLite."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session, sessionmaker

from model.db import make_engine, make_session_factory, upgrade

TRIED: Counter[str] = Counter()  # inputs tried per kind, printed at the end (README figures)


def fresh_factory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[sessionmaker[Session]]:
    """A session factory on a new migrated SQLite; prints what was tried when it is torn down."""
    url = f"sqlite:///{tmp_path_factory.mktemp('hostile') / 'hostile.db'}"
    upgrade(url)
    engine = make_engine(url)
    yield make_session_factory(engine)
    engine.dispose()
    print(f"\nhostile inputs tried: {dict(TRIED)}")
