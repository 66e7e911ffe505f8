"""The connector interface: what sync may ask of any system, declared rather than probed.

Connector     one configured system: `name` (the source its rows are stored under), `kind`,
              `title` (what people call the system), `streams` (declared once, as data),
              `prepare_pulls`, `pull`, `calls`, `api_usage()`, `writer`
StreamRead    a stream a run is about to pull and the state `pull` will be given
Stream        one readable stream: the entity it feeds, its key and cursor, full or incremental,
              and whether the nightly reconcile and the per-account refresh read it
Writer        the write kinds a connector supports (`kinds`) and how a batch of one is pushed
WriteKind     one outbox kind a writer accepts: batch size, read window, splitter, in-flight
              mark, and for planned writes the entity and logical fields it writes
SourceConfig  one configured source: the entry point that builds it and that source's options

`sync` holds connectors only through these types: it never asks what a connector is (no
`hasattr`), it reads what each declares. Order, reconcile and refresh sets are derived from
the streams (`pull_order`), never listed again elsewhere.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

from connectors.records import Page, WriteResult

if TYPE_CHECKING:
    from connectors.write_fields import WriteFields

Kind = Literal["crm", "helpdesk", "usage", "notifier"]
# Pull order between kinds: accounts first, then what is matched to them.
KIND_ORDER: tuple[Kind, ...] = ("crm", "helpdesk", "usage")
Mode = Literal["incremental", "full"]
# The model entities a stream may feed (`sync.mapping` has one sink for each): crm accounts,
# opportunities and contacts; helpdesk organizations (matched to accounts) and tickets; usage
# workspaces (matched to accounts) and daily usage rows; survey responses (NPS, CES, CSAT)
# from any kind of source.
ENTITIES = frozenset(
    {
        "account",
        "opportunity",
        "contact",
        "organization",
        "ticket",
        "workspace",
        "usage_day",
        "survey_response",  # NPS, CES, CSAT answers from any kind of source
        "app_user",  # a person with access to the product (usage API users)
    }
)


@dataclass(frozen=True)
class Stream:
    """One stream, declared as data.

    entity: the model entity its records feed (`sync.mapping` holds one sink per entity);
    primary_key: the record field that identifies a record within the source;
    cursor: the record field the saved state follows (None: re-read whole every run);
    reconcile: the nightly reconcile re-reads it from the beginning and marks rows the
      source no longer returns as deleted (hard deletes an incremental pull never sees);
    refresh: an account's near-real-time refresh (a webhook) pulls it;
    dated: the first pull starts `history_days` back rather than at the beginning.
    """

    name: str
    entity: str
    primary_key: str
    cursor: str | None = None
    mode: Mode = "incremental"
    reconcile: bool = False
    refresh: bool = False
    dated: bool = False


@dataclass(frozen=True)
class StreamRead:
    """A stream a run is about to pull, with the state and start `pull` will be given."""

    stream: str
    state: str | None
    start: dt.datetime | None = None


@dataclass(frozen=True)
class WriteItem:
    """One write handed to a writer: the record it targets, what to write there, and the
    write's own key (a creation sends it as its idempotency key)."""

    target_id: str
    payload: Mapping[str, Any]
    maybe_sent: bool = False  # an earlier send's result was never recorded: check before re-sending
    key: str | None = None

    def idempotency_key(self) -> str:
        """The key a creation sends so a retry finds the first one; a creation must have one."""
        if self.key is None:
            raise ValueError(f"write to {self.target_id} has no key to make it idempotent")
        return self.key


Splitter = Callable[[Sequence[Any]], list[list[Any]]]


@dataclass(frozen=True)
class WriteKind:
    """One outbox kind a writer accepts and how the outbox drains it.

    batch_size: items per `push` call; window: items read at once and cut by `split` into
    whole calls (0: batch_size); mark_in_flight: mark items before the call, for writes
    that are not idempotent by themselves, so a crash before the result is recorded leaves
    a trace the next send checks. A kind sync plans from snapshots names the `entity` it
    writes (account, organization, ticket) and, for field writes, the logical `fields` it
    carries and how each is written; creations (tickets, tasks, posts) have neither.
    """

    name: str
    batch_size: int
    window: int = 0
    split: Splitter | None = None
    mark_in_flight: bool = False
    entity: str | None = None
    fields: WriteFields | None = None


@runtime_checkable
class Writer(Protocol):
    """The writes a connector supports, by outbox kind."""

    @property
    def kinds(self) -> Mapping[str, WriteKind]: ...

    def push(self, kind: str, items: Sequence[WriteItem]) -> Sequence[WriteResult]:
        """Send one batch of `kind`; a result per item, in order (failures included)."""
        ...


@runtime_checkable
class Connector(Protocol):
    """One configured system, as sync sees it."""

    @property
    def name(self) -> str: ...

    @property
    def kind(self) -> Kind: ...

    @property
    def title(self) -> str:
        """The system's name as people know it, for text pulsehub writes (a ticket's body)."""
        ...

    @property
    def streams(self) -> Mapping[str, Stream]: ...

    @property
    def writer(self) -> Writer | None: ...

    @property
    def calls(self) -> int:
        """API requests made so far (the run records the difference)."""
        ...

    def api_usage(self) -> tuple[int, int] | None:
        """(used, total) of the API's daily quota when the API reports one."""
        ...

    def prepare_pulls(self, reads: Sequence[StreamRead]) -> None:
        """The streams a run is about to pull from this source, in order, with the states
        `pull` will be given. A connector that can read several streams' first pages in one
        request (Salesforce's Composite) may do so here; others do nothing. Never raises: a
        read ahead that fails leaves each stream to its own request, which reports the error.
        """
        ...

    def pull(
        self, stream: str, state: str | None, *, start: dt.datetime | None = None
    ) -> Iterator[Page[Any]]:
        """Pages after `state` (the cursor saved with the last committed page)."""
        ...


@dataclass(frozen=True)
class SourceConfig:
    """One configured source: `connector` names the entry point in the `pulsehub.connectors`
    group that builds it; `name` is the source its rows are stored under; `options` are that
    connector's own settings (it validates them and names the bad key)."""

    name: str
    connector: str
    options: Mapping[str, Any] = field(default_factory=dict)


ConnectorFactory = Callable[[SourceConfig], Connector]


@dataclass(frozen=True)
class PlannedStream:
    """A stream in pull order, with the connector that reads it."""

    source: str
    stream: Stream


def pull_order(connectors: Iterable[Connector]) -> list[PlannedStream]:
    """Every declared stream, crm sources first, then helpdesks, then usage; within a source,
    in declaration order."""
    ranked = sorted(
        (c for c in connectors if c.kind in KIND_ORDER),
        key=lambda c: KIND_ORDER.index(c.kind),
    )
    return [PlannedStream(c.name, s) for c in ranked for s in c.streams.values()]
