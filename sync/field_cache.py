"""Connector metadata kept in the database (e.g. a describe of the fields a system has), so a
steady-state run does not fetch it again: one `source_metadata` row per key, keys starting
with the source's name.

The connector decides when its metadata is stale; this module only keeps the last value for
the next process to find.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from sqlalchemy import delete, or_
from sqlalchemy.orm import Session, sessionmaker

from model.db import transaction
from model.tables import SourceMetadata
from model.upsert import upsert_rows


class StoredMetadata:
    """One connector's JSON metadata under `key`, with when it was fetched."""

    def __init__(self, factory: sessionmaker[Session], key: str) -> None:
        self.factory = factory
        self.key = key

    def load(self) -> tuple[dict[str, Any], dt.datetime] | None:
        with transaction(self.factory) as session:
            row = session.get(SourceMetadata, self.key)
            return (dict(row.value), row.fetched_at) if row else None

    def save(self, value: dict[str, Any], fetched_at: dt.datetime) -> None:
        row = {"key": self.key, "value": value, "fetched_at": fetched_at}
        with transaction(self.factory) as session:
            upsert_rows(session, SourceMetadata.__table__, [row], key=["key"])  # type: ignore[arg-type]


def forget_metadata(session: Session, sources: Iterable[str]) -> None:
    """Drop what these sources keep (e.g. the operator fixed the fields): next use fetches it."""
    prefixes = [SourceMetadata.key.startswith(f"{s}.", autoescape=True) for s in set(sources)]
    if prefixes:
        session.execute(delete(SourceMetadata).where(or_(*prefixes)))
