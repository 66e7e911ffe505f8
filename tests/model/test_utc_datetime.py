"""UTCDateTime's one-step SQLite binding stores what SQLAlchemy's own two steps stored."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, create_engine, insert, select, text
from sqlalchemy.dialects import sqlite
from sqlalchemy.types import DateTime

from model.orm import UTCDateTime

PARIS = dt.timezone(dt.timedelta(hours=1))
VALUES = [
    dt.datetime(2026, 12, 5, 5, 55, 52, 20121, tzinfo=dt.UTC),
    dt.datetime(2026, 12, 5, 0, 0, tzinfo=dt.UTC),  # no microseconds: still written out
    dt.datetime(2026, 1, 1, 0, 30, tzinfo=PARIS),  # another zone: stored as UTC, a day back
    dt.datetime(999, 3, 4, 5, 6, 7, 8, tzinfo=dt.UTC),  # a year of three digits is padded
]


@pytest.mark.parametrize("value", VALUES)
def test_sqlite_text_equals_sqlalchemys_own_format(value: dt.datetime) -> None:
    dialect = sqlite.dialect()
    ours = UTCDateTime().bind_processor(dialect)
    theirs = DateTime(timezone=True).dialect_impl(dialect).bind_processor(dialect)
    assert ours is not None and theirs is not None
    assert ours(value) == theirs(value.astimezone(dt.UTC))


def test_round_trip_and_naive_refused() -> None:
    engine = create_engine("sqlite://")
    table = Table(
        "t", MetaData(), Column("id", Integer, primary_key=True), Column("at", UTCDateTime())
    )
    table.metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(
            insert(table),
            [{"id": i, "at": v} for i, v in enumerate(VALUES)] + [{"id": 9, "at": None}],
        )
        assert conn.execute(select(table.c.at).order_by(table.c.id)).scalars().all() == [
            *(v.astimezone(dt.UTC) for v in VALUES),
            None,
        ]
        assert (
            conn.execute(text("select at from t where id = 2")).scalar()
            == "2025-12-31 23:30:00.000000"
        )
        with pytest.raises(Exception, match="naive datetime"):
            conn.execute(insert(table), [{"id": 10, "at": dt.datetime(2026, 1, 1)}])
