"""The suppression list: external keys of erased accounts, checked wherever pulled rows land.

`data delete` records every key an erased account was known by (`model.ErasedKey`, one row
per entity and value). A sink declares which of its columns hold such keys (`Sink.suppress`:
the row's own key, and the keys of what it belongs to), and `drop_erased` removes the rows
carrying an erased one before they are stored, so a later pull never brings the account, nor
anything about it, back. `data relink` deletes the keys and the records flow again.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from model.tables import ErasedKey

log = logging.getLogger(__name__)
CHUNK = 500


def key_text(value: Any) -> str | None:
    """The stored form of a key: text, whatever type the column holds (ids may be numbers)."""
    return None if value is None or value == "" else str(value)


def erased_values(session: Session, entity: str, values: Iterable[str]) -> set[str]:
    """Which of `values` are erased keys of `entity`."""
    wanted = sorted(set(values))
    found: set[str] = set()
    for start in range(0, len(wanted), CHUNK):
        found.update(
            session.scalars(
                select(ErasedKey.value).where(
                    ErasedKey.entity == entity, ErasedKey.value.in_(wanted[start : start + CHUNK])
                )
            )
        )
    return found


def drop_erased(
    session: Session, rows: list[dict[str, Any]], suppress: Sequence[tuple[str, str]]
) -> tuple[list[dict[str, Any]], int]:
    """`rows` without those holding an erased key in a `suppress` column (column, entity);
    returns the rows kept and how many were dropped. One look-up per suppressing column."""
    if not rows or not suppress:
        return rows, 0
    if not session.execute(select(ErasedKey.id).limit(1)).first():
        return rows, 0  # nothing was ever erased: the common case costs one indexed read
    values: dict[tuple[str, str], set[str]] = defaultdict(set)
    for column, entity in suppress:
        values[(column, entity)] = {v for r in rows if (v := key_text(r.get(column))) is not None}
    erased = {
        (column, entity): erased_values(session, entity, vals)
        for (column, entity), vals in values.items()
        if vals
    }
    kept = [
        r
        for r in rows
        if not any(key_text(r.get(col)) in erased.get((col, ent), ()) for col, ent in suppress)
    ]
    dropped = len(rows) - len(kept)
    if dropped:
        log.info("dropped %s pulled records of erased accounts", dropped)
    return kept, dropped
