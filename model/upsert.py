"""Batched INSERT ... ON CONFLICT DO UPDATE for SQLite and PostgreSQL alike.

A conflicting row is updated only when some updated column IS DISTINCT FROM its incoming
value, so re-reading what is already stored (a pull's overlap window) writes nothing: no row
version on PostgreSQL, and bookkeeping columns (those with an `onupdate`, e.g. `updated_at`)
move only with a real change of content, which is what "changed since" readers rely on.

On SQLite the rows go to the driver's executemany as tuples, each value through the bind
processor SQLAlchemy itself would apply (`_DriverPlan`): SQLAlchemy's per-row parameter
handling was a quarter of a CRM pull's time (bench taps). A statement whose binds the
plan cannot account for goes through SQLAlchemy as before.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column, Table, case, cast, null, or_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.schema import ColumnDefault
from sqlalchemy.sql.sqltypes import JSON

from model.match_fields import STAMP_ON_CHANGE


def upsert_rows(
    session: Session,
    table: Table,
    rows: Sequence[dict[str, Any]],
    key: Sequence[str],
    *,
    update: Sequence[str] | None = None,
    reset_on_change: Mapping[str, str] | None = None,
) -> int:
    """Insert `rows`, updating `update` columns (default: all but the key) where `key` collides.

    `reset_on_change` maps a derived column to the column it is derived from: when an update
    changes the source column, the derived one is set to NULL (e.g. a ticket moved to another
    organization loses its account link until identity resolution links it again).

    Returns how many distinct keys were offered (inserted, updated or already current)."""
    if not rows:
        return 0
    bind_dialect = session.get_bind().dialect
    dialect = bind_dialect.name
    # one row per key: the last occurrence wins, as it would with sequential upserts
    unique = list({tuple(r[k] for k in key): r for r in rows}.values())
    # rows of one statement must share their columns (e.g. tickets with and without metrics)
    shapes: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in unique:
        shapes.setdefault(tuple(row), []).append(row)
    for cols, group in shapes.items():
        stmt = _statement(dialect, table, cols, tuple(key), update, reset_on_change)
        plan = _driver_plan(bind_dialect, stmt, cols) if dialect == "sqlite" else None
        if plan is not None:
            session.connection().exec_driver_sql(plan.sql, plan.parameters(group))
        else:
            # one cached statement, executemany: SQLAlchemy batches it ("insertmanyvalues")
            session.execute(stmt, group)
    return len(unique)


Processor = Callable[[Any], Any] | None


@dataclass(frozen=True)
class _Fixed:
    """A parameter the statement itself fixes (a JSON key a change stamp compares)."""

    value: Any


@dataclass(frozen=True)
class _DriverPlan:
    """An upsert compiled once for one row shape: its SQL and, per positional parameter, the
    row key it takes (or the column default SQLAlchemy would compute for a column the rows
    lack, or the value the statement fixes) and the bind processor SQLAlchemy would apply."""

    sql: str
    steps: tuple[tuple[str, ColumnDefault | _Fixed | None, Processor], ...]

    def parameters(self, rows: Sequence[Mapping[str, Any]]) -> list[tuple[Any, ...]]:
        steps = self.steps
        out = []
        for row in rows:
            values = []
            for name, default, process in steps:
                if default is None:
                    value = row[name]
                elif isinstance(default, _Fixed):
                    value = default.value
                else:
                    value = _default_value(default)
                values.append(value if process is None else process(value))
            out.append(tuple(values))
        return out


def _default_value(default: ColumnDefault) -> Any:
    # SQLAlchemy wraps a column's Python default to take the execution context; none of the
    # model's defaults reads it (utcnow, list, dict, constants)
    return default.arg(None) if default.is_callable else default.arg


# keyed by identity; each entry holds its dialect and statement, so an id cannot be reused
# by another object while the entry lives (and a hit checks it is the same objects)
_PLANS: dict[tuple[int, int, tuple[str, ...]], tuple[Dialect, Any, _DriverPlan | None]] = {}


def _driver_plan(dialect: Dialect, stmt: Any, cols: tuple[str, ...]) -> _DriverPlan | None:
    """The statement's driver plan on this engine's dialect (its JSON serializer is the
    engine's), or None when a parameter is neither a row key nor a plain column default."""
    cache_key = (id(dialect), id(stmt), cols)
    hit = _PLANS.get(cache_key)
    if hit is not None and hit[0] is dialect and hit[1] is stmt:
        return hit[2]
    compiled = stmt.compile(dialect=dialect, column_keys=list(cols))
    processors = compiled._bind_processors
    defaults = {c.key: c.default for c in compiled.insert_prefetch}
    steps: list[tuple[str, ColumnDefault | _Fixed | None, Processor]] = []
    plan: _DriverPlan | None = None
    if compiled.positional and not compiled.update_prefetch:
        for name in compiled.positiontup or ():
            source: ColumnDefault | _Fixed | None = None
            if name not in cols:
                source = defaults.get(name) or _fixed(compiled.binds.get(name))
                usable = isinstance(source, _Fixed) or (
                    isinstance(source, ColumnDefault) and (source.is_callable or source.is_scalar)
                )
                if not usable:
                    break
            steps.append((name, source, processors.get(name)))
        else:
            plan = _DriverPlan(compiled.string, tuple(steps))
    if len(_PLANS) >= 512:
        _PLANS.clear()
    _PLANS[cache_key] = (dialect, stmt, plan)
    return plan


def _fixed(bind: Any) -> _Fixed | None:
    """A bind parameter whose value the statement fixes (not a row's, not computed)."""
    if bind is None or bind.callable is not None or bind.required or bind.value is None:
        return None
    return _Fixed(bind.value)


_StatementKey = tuple[
    str,
    Table,
    tuple[str, ...],
    tuple[str, ...],
    tuple[str, ...] | None,
    tuple[tuple[str, str], ...],
]
_STATEMENTS: dict[_StatementKey, Any] = {}


def _statement(
    dialect: str,
    table: Table,
    cols: tuple[str, ...],
    key: tuple[str, ...],
    update: Sequence[str] | None,
    reset_on_change: Mapping[str, str] | None,
) -> Any:
    """The upsert for rows of these columns, built once per shape: building one constructs
    the table's `excluded` columns anew, a tenth of storing a page."""
    resets = tuple(sorted((reset_on_change or {}).items()))
    cache_key = (dialect, table, cols, key, None if update is None else tuple(update), resets)
    if (stmt := _STATEMENTS.get(cache_key)) is not None:
        return stmt
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    update_cols = [c for c in (update if update is not None else cols) if c not in key]
    stmt = insert(table)
    if update_cols:
        set_: dict[str, Any] = {c: stmt.excluded[c] for c in update_cols}
        for derived, source in resets:
            if source in cols:
                same = table.c[source].is_not_distinct_from(stmt.excluded[source])
                set_[derived] = case((same, table.c[derived]), else_=null())
        set_.update(_stamps(table, stmt.excluded, cols, dialect))
        content = [c for c in update_cols if table.c[c].onupdate is None]
        where = [_differs(table.c[c], stmt.excluded[c], dialect) for c in content]
        stmt = stmt.on_conflict_do_update(
            index_elements=list(key), set_=set_, where=or_(*where) if where else None
        )
    else:
        stmt = stmt.on_conflict_do_nothing(index_elements=list(key))
    if len(_STATEMENTS) >= 512:  # shapes are few; a bound keeps a long-lived worker's small
        _STATEMENTS.clear()
    _STATEMENTS[cache_key] = stmt
    return stmt


def _stamps(table: Table, excluded: Any, cols: tuple[str, ...], dialect: str) -> dict[str, Any]:
    """The table's change stamps (`Table.info[STAMP_ON_CHANGE]`, model/match_fields.py): each
    kept when the fields it follows that the rows carry are the same, else the incoming row's
    (its column default: the time of this write)."""
    out: dict[str, Any] = {}
    for stamp, fields in (table.info.get(STAMP_ON_CHANGE) or {}).items():
        present = [f for f in fields if f.split(".", 1)[0] in cols]
        if not present:
            continue  # nothing it follows is written: it stays
        changed = [_differs(_field(table, f), _field(excluded, f), dialect) for f in present]
        out[stamp] = case((or_(*changed), excluded[stamp]), else_=table.c[stamp])
    return out


def _field(columns: Any, name: str) -> Any:
    """A column, or with "column.key" that key of a JSON column as text."""
    column, _, key = name.partition(".")
    c = columns.c[column] if isinstance(columns, Table) else columns[column]
    return c[key].as_string() if key else c


def _differs(stored: Column[Any], incoming: Any, dialect: str) -> ColumnElement[bool]:
    """`stored IS DISTINCT FROM incoming`; PostgreSQL's `json` has no equality: as jsonb."""
    if dialect == "postgresql" and isinstance(stored.type, JSON):
        jsonb = postgresql.JSONB()
        return cast(stored, jsonb).is_distinct_from(cast(incoming, jsonb))
    return stored.is_distinct_from(incoming)
