"""Read JSON list columns (ticket tags) as their stored text and decode each distinct value once.

A book repeats a few dozen tag lists across hundreds of thousands of tickets; decoding every
row's JSON was the largest single cost of the scoring replay and the escalation facts.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Text, cast
from sqlalchemy.sql.elements import Cast

ListCache = dict[str | None, tuple[Any, ...]]


def as_text(column: Any) -> Cast[str]:
    """The column's stored JSON text (same on SQLite and PostgreSQL's `json`)."""
    return cast(column, Text)


def decode_list(raw: str | None, cache: ListCache) -> tuple[Any, ...]:
    """The JSON list in `raw` as a tuple (empty for NULL, a non-list or malformed JSON)."""
    hit = cache.get(raw)
    if hit is None:
        try:
            value = json.loads(raw) if raw else []
        except ValueError:
            value = []
        hit = cache[raw] = tuple(value) if isinstance(value, list) else ()
    return hit
