"""Which Account fields the org has: one describe, kept with its fetch time and reused while fresh.

Every `pulsehub sync` is a new process, so an in-memory cache alone costs one describe per
run that writes. With a `FieldStore` (the sync layer keeps one in its database) a describe is
reused across processes until it is older than `ttl`; a write that Salesforce rejects for a
field (INVALID_FIELD...) makes the writer describe again, once per push, as the org's fields
may have changed. A describe that fails leaves writes unchecked, with a warning.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from connectors.errors import ConnectorError

logger = logging.getLogger(__name__)
DEFAULT_TTL = dt.timedelta(hours=24)
FIELD_ERRORS = frozenset({"INVALID_FIELD", "INVALID_FIELD_FOR_INSERT_UPDATE"})


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class DescribedFields:
    """An object's field names from one describe, the ones this API user may not update, and when."""

    names: frozenset[str]
    read_only: frozenset[str]
    fetched_at: dt.datetime

    @classmethod
    def from_describe(cls, body: Any, fetched_at: dt.datetime) -> DescribedFields:
        fields = [
            f for f in (body or {}).get("fields", []) if isinstance(f, dict) and f.get("name")
        ]
        return cls(
            names=frozenset(str(f["name"]) for f in fields),
            read_only=frozenset(str(f["name"]) for f in fields if f.get("updateable") is False),
            fetched_at=fetched_at,
        )

    def to_json(self) -> dict[str, list[str]]:
        return {"names": sorted(self.names), "read_only": sorted(self.read_only)}

    @classmethod
    def from_json(cls, value: dict[str, Any], fetched_at: dt.datetime) -> DescribedFields:
        return cls(
            names=frozenset(value.get("names") or ()),
            read_only=frozenset(value.get("read_only") or ()),
            fetched_at=fetched_at,
        )


class FieldStore(Protocol):
    """Where a describe outlives the process; `load` gives None when nothing is stored."""

    def load(self) -> DescribedFields | None: ...

    def save(self, described: DescribedFields) -> None: ...


class MetadataStore(Protocol):
    """A JSON value kept with its fetch time beyond the process (sync keeps one per key)."""

    def load(self) -> tuple[dict[str, Any], dt.datetime] | None: ...

    def save(self, value: dict[str, Any], fetched_at: dt.datetime) -> None: ...


def describe_key(source: str) -> str:
    """Where a source's Account describe is kept: its name first, as sync forgets by source."""
    return f"{source}.Account.describe"


DESCRIBE_KEY = describe_key("salesforce")


class DescribeStore:
    """A `FieldStore` over a `MetadataStore`: the describe as JSON."""

    def __init__(self, metadata: MetadataStore) -> None:
        self.metadata = metadata

    def load(self) -> DescribedFields | None:
        kept = self.metadata.load()
        return DescribedFields.from_json(*kept) if kept is not None else None

    def save(self, described: DescribedFields) -> None:
        self.metadata.save(described.to_json(), described.fetched_at)


class AccountFields:
    """The Account fields writes are checked against: stored, described, or None (unchecked)."""

    def __init__(
        self,
        describe: Callable[[], Any],
        *,
        ttl: dt.timedelta = DEFAULT_TTL,
        clock: Callable[[], dt.datetime] = _utcnow,
    ) -> None:
        self.describe = describe
        self.ttl = ttl
        self.clock = clock
        self.store: FieldStore | None = None
        self._current: DescribedFields | None = None  # None: unchecked (describe failed)
        self._settled = False  # `_current` stands for the rest of this push
        self._rechecked = False

    def use_store(self, store: FieldStore | None) -> None:
        """Keep describes in `store`; starts a push, which checks freshness again."""
        self.store = store
        self.start_push()

    def start_push(self) -> None:
        """A new push settles the fields again: fresh still, or described anew."""
        self._settled = self._rechecked = False

    def get(self) -> DescribedFields | None:
        """The fields for this push: from memory or the store while fresh, else a describe;
        None when that describe failed. Settled once per push, whatever the TTL."""
        if not self._settled:
            self._settled = True
            if self._current is None or not self._fresh(self._current):
                stored = self.store.load() if self.store is not None else None
                fresh = stored is not None and self._fresh(stored)
                self._current = stored if fresh else self._describe()
        return self._current

    def recheck(self) -> None:
        """Salesforce rejected a field: describe again (once per push), the org may have changed."""
        if self._rechecked or (self._settled and self._current is None):
            return  # done already, or describe failed in this push: not asked again
        self._rechecked = self._settled = True
        logger.info("a write was rejected for a field: describing Account again")
        self._current = self._describe()

    def _fresh(self, described: DescribedFields) -> bool:
        return self.clock() - described.fetched_at < self.ttl

    def _describe(self) -> DescribedFields | None:
        try:
            described = DescribedFields.from_describe(self.describe(), self.clock())
        except ConnectorError as exc:
            logger.warning("Account describe failed, field existence not checked: %s", exc)
            return None
        if self.store is not None:
            self.store.save(described)
        return described
