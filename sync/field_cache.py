"""Salesforce's Account describe kept in the database, so a steady-state run does not describe.

The connector decides when a describe is stale (its `describe_ttl`); this module only keeps
the last one, in `source_metadata`, for the next process to find.
"""

from __future__ import annotations

from sqlalchemy import delete
from sqlalchemy.orm import Session, sessionmaker

from connectors.salesforce_describe import DescribedFields
from model.db import transaction
from model.tables import SourceMetadata
from model.upsert import upsert_rows

ACCOUNT_FIELDS_KEY = "salesforce.Account.describe"


class StoredFields:
    """A `connectors.salesforce_describe.FieldStore` backed by one `source_metadata` row."""

    def __init__(self, factory: sessionmaker[Session], key: str = ACCOUNT_FIELDS_KEY) -> None:
        self.factory = factory
        self.key = key

    def load(self) -> DescribedFields | None:
        with transaction(self.factory) as session:
            row = session.get(SourceMetadata, self.key)
            return DescribedFields.from_json(row.value, row.fetched_at) if row else None

    def save(self, described: DescribedFields) -> None:
        row = {"key": self.key, "value": described.to_json(), "fetched_at": described.fetched_at}
        with transaction(self.factory) as session:
            upsert_rows(session, SourceMetadata.__table__, [row], key=["key"])  # type: ignore[arg-type]


def forget_described_fields(session: Session) -> None:
    """Drop the kept describe (e.g. the operator fixed the org's fields): the next write describes."""
    session.execute(delete(SourceMetadata).where(SourceMetadata.key == ACCOUNT_FIELDS_KEY))
