"""On SQLite, upserts go to the driver as tuples (model/upsert.py `_DriverPlan`): every sink's
table ends byte for byte as SQLAlchemy's own parameter handling leaves it, through inserts,
updates, unchanged re-reads, rows lacking defaulted columns and derived-column resets."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

import pytest
from sqlalchemy import Boolean, Date, Float, Integer, Table, text
from sqlalchemy.sql.sqltypes import JSON, String

from model import upsert
from model.db import make_engine, make_session_factory, upgrade
from model.orm import UTCDateTime
from sync.mapping import SINKS

TZ = dt.timezone(dt.timedelta(hours=2))


def _value(column: Any, rng: random.Random, n: int) -> Any:
    kind = column.type
    if column.nullable and rng.random() < 0.2:
        return None
    if isinstance(kind, UTCDateTime):
        return dt.datetime(2026, 11, 1, 8, tzinfo=TZ) + dt.timedelta(
            minutes=rng.randint(0, 10_000), microseconds=rng.choice([0, 1, 999_999])
        )
    if isinstance(kind, Boolean):
        return rng.random() < 0.5
    if isinstance(kind, Date):
        return dt.date(2026, 1, 1) + dt.timedelta(days=rng.randint(0, 400))
    if isinstance(kind, Float):
        return rng.choice([0.0, -1.5, 1e-9, rng.random() * 1e6])
    if isinstance(kind, Integer):
        return rng.randint(-5, 10_000)
    if isinstance(kind, JSON):
        return rng.choice(
            [[], ["a", "é", n], {"k": [1, None, "ü"], "n": n}, {"nested": {"x": 1.5}}]
        )
    if isinstance(kind, String):
        limit = kind.length or 40
        return (rng.choice(["plain", "ünïcode ✓", "quote ' \" ;", ""]) + str(n))[-limit:]
    raise AssertionError(f"no generator for {column.name}: {kind!r}")


def _rows(table: Table, key: tuple[str, ...], rng: random.Random, start: int) -> list[dict]:
    rows = []
    for n in range(start, start + 60):
        row = {}
        for column in table.c:
            if column.primary_key and column.name not in key:
                continue
            if column.foreign_keys and column.name not in key:
                row[column.name] = None  # no parent rows in this database
                continue
            if column.default is not None and column.name not in key and n % 3 == 0:
                continue  # a second row shape: the column's default fills it
            row[column.name] = _value(column, rng, n)
        for k in key:  # unique per row
            kind = table.c[k].type
            row[k] = (
                f"k{n}"
                if isinstance(kind, String)
                else dt.date(2026, 1, 1) + dt.timedelta(days=n)
                if isinstance(kind, Date)
                else n
            )
        rows.append(row)
    return rows


def _stored(url: str, table: Table, key: tuple[str, ...], defaulted: set[str]) -> list[tuple]:
    """Every row as the driver returns it, by key, without the surrogate id; then the table is
    emptied. Columns a default filled (a clock) as present/absent."""
    engine = make_engine(url)
    names = [c.name for c in table.c if c.name != "id"]
    with engine.begin() as conn:
        listed, order = ", ".join(names), ", ".join(key)
        rows = conn.exec_driver_sql(f"SELECT {listed} FROM {table.name} ORDER BY {order}").all()
        conn.exec_driver_sql(f"DELETE FROM {table.name}")
    engine.dispose()
    return [
        tuple((v is not None) if n in defaulted else v for n, v in zip(names, r, strict=True))
        for r in rows
    ]


def _apply(url: str, sink: Any, batches: list[list[dict]]) -> None:
    factory = make_session_factory(make_engine(url))
    for rows in batches:
        with factory() as s, s.begin():
            upsert.upsert_rows(
                s,
                sink.table,
                rows,
                key=list(sink.key),
                update=sink.update,
                reset_on_change=dict(sink.reset_on_change),
            )


@pytest.mark.parametrize("entity", sorted(SINKS))
def test_the_driver_path_stores_what_sqlalchemy_stores(
    entity: str, sqlite_url: str, monkeypatch
) -> None:
    url = sqlite_url
    sink = SINKS[entity]
    rng = random.Random(entity)
    first = _rows(sink.table, sink.key, rng, 0)
    changed = [dict(r) for r in first[::2]]
    for r in changed:  # every other row again, its non-key columns drawn anew
        r.update(
            {k: v for k, v in _rows(sink.table, sink.key, rng, 0)[0].items() if k not in sink.key}
        )
    batches = [first, changed, first[1::2], _rows(sink.table, sink.key, rng, 1000)]
    defaulted = {
        c.name
        for c in sink.table.c
        if c.default is not None and callable(getattr(c.default, "arg", None))
    } | {c.name for c in sink.table.c if c.onupdate is not None}

    upgrade(url)
    planned: list[object] = []
    plan = upsert._driver_plan
    monkeypatch.setattr(upsert, "_driver_plan", lambda *a: planned.append(p := plan(*a)) or p)
    _apply(url, sink, batches)
    assert planned and all(p is not None for p in planned), "the driver path was not taken"
    got = _stored(url, sink.table, sink.key, defaulted)
    monkeypatch.setattr(upsert, "_driver_plan", lambda *a: None)
    _apply(url, sink, batches)
    want = _stored(url, sink.table, sink.key, defaulted)
    assert len(want) == 120
    assert got == want


def test_a_naive_datetime_is_refused_on_the_driver_path(sqlite_url: str) -> None:
    url = sqlite_url
    upgrade(url)
    sink = SINKS["ticket"]
    row = _rows(sink.table, sink.key, random.Random(1), 1)[0]
    stamp = next(c.name for c in sink.table.c if isinstance(c.type, UTCDateTime) and c.name in row)
    row[stamp] = dt.datetime(2026, 1, 1)
    with pytest.raises(ValueError, match="naive datetime"):
        _apply(url, sink, [[row]])
    engine = make_engine(url)
    with engine.connect() as conn:
        assert conn.execute(text(f"SELECT count(*) FROM {sink.table.name}")).scalar() == 0
    engine.dispose()


def test_a_cached_plan_is_used_only_for_the_same_dialect_and_statement() -> None:
    """Plans are cached by the objects' ids; an id a garbage-collected statement left behind
    must not hand its plan (another statement's SQL) to a new one."""
    from sqlalchemy.dialects import sqlite

    sink = SINKS["ticket"]
    cols = tuple(c.name for c in sink.table.c if c.name != "id")
    dialect = sqlite.dialect()
    stmt = upsert._statement("sqlite", sink.table, cols, sink.key, None, None)
    stale = object()
    upsert._PLANS[(id(dialect), id(stmt), cols)] = (sqlite.dialect(), object(), stale)  # type: ignore[assignment]
    plan = upsert._driver_plan(dialect, stmt, cols)
    assert plan is not None and plan is not stale and plan.sql.startswith("INSERT INTO tickets")
    assert upsert._driver_plan(dialect, stmt, cols) is plan
