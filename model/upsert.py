"""Batched INSERT ... ON CONFLICT DO UPDATE for SQLite and PostgreSQL alike."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Table, case, null
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


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
    organization loses its account link until identity resolution links it again)."""
    if not rows:
        return 0
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    # one row per key: the last occurrence wins, as it would with sequential upserts
    unique = list({tuple(r[k] for k in key): r for r in rows}.values())
    # rows of one statement must share their columns (e.g. tickets with and without metrics)
    shapes: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in unique:
        shapes.setdefault(tuple(row), []).append(row)
    for cols, group in shapes.items():
        update_cols = [c for c in (update if update is not None else cols) if c not in key]
        stmt = insert(table)
        if update_cols:
            set_: dict[str, Any] = {c: stmt.excluded[c] for c in update_cols}
            for derived, source in (reset_on_change or {}).items():
                if source in cols:
                    same = table.c[source].is_not_distinct_from(stmt.excluded[source])
                    set_[derived] = case((same, table.c[derived]), else_=null())
            stmt = stmt.on_conflict_do_update(index_elements=list(key), set_=set_)
        else:
            stmt = stmt.on_conflict_do_nothing(index_elements=list(key))
        # one cached statement, executemany: SQLAlchemy batches it ("insertmanyvalues")
        session.execute(stmt, group)
    return len(unique)
