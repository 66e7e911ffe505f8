"""Two sources declaring one write kind: each source's outbox items reach its own writer only,
and the planner's one-pending-write-per-target rule holds per source (ids repeat across
instances); `primary: true` puts a source first of its kind, two of one kind are refused."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pytest
from sqlalchemy import select

from connectors.base import WriteItem, WriteKind
from connectors.errors import ConfigError
from connectors.records import WriteResult
from model.db import transaction
from model.tables import OutboxItem, WrittenState
from pulsehub.sources import ConfiguredSource, primary_first
from sync import outbox, push
from sync.routes import source_routes
from sync.writeback import FieldChange, PlannedWrite, encode

KIND = "helpdesk_org_fields"


@dataclass
class RecordingWriter:
    """A writer that keeps what it was handed."""

    got: list[tuple[str, dict]] = field(default_factory=list)

    @property
    def kinds(self) -> Mapping[str, WriteKind]:
        return {KIND: WriteKind(KIND, 100, entity="organization")}

    def push(self, kind: str, items: Sequence[WriteItem]) -> Sequence[WriteResult]:
        self.got += [(i.target_id, dict(i.payload)) for i in items]
        return [WriteResult.success(i.target_id) for i in items]


def _write(system: str, target: str, score: int) -> PlannedWrite:
    return PlannedWrite(system, KIND, target, 1, [FieldChange("health_score", None, encode(score))])


def test_each_source_drains_into_its_own_writer(factory) -> None:
    first, second = RecordingWriter(), RecordingWriter()
    routes = source_routes({"zendesk": first, "acquired": second, "usage": None})
    assert set(routes) == {f"{KIND}@zendesk", f"{KIND}@acquired"}
    with transaction(factory) as s:  # organization 1 in both instances: two targets
        assert (
            outbox.enqueue_plan(s, [_write("zendesk", "1", 70), _write("acquired", "1", 40)]) == 2
        )
        # a re-plan merges into each source's pending write, not the other's
        assert (
            outbox.enqueue_plan(s, [_write("zendesk", "1", 71), _write("acquired", "1", 40)]) == 1
        )
    stats = push.drain(factory, routes)
    assert stats.done == 2
    assert first.got == [("1", {"fields": {"health_score": 71}})]
    assert second.got == [("1", {"fields": {"health_score": 40}})]
    with transaction(factory) as s:
        written = {
            (w.system, w.target_id): w.value for w in s.execute(select(WrittenState)).scalars()
        }
        assert written == {("zendesk", "1"): "71", ("acquired", "1"): "40"}
        assert {i.status for i in s.execute(select(OutboxItem)).scalars()} == {"done"}


def test_one_source_of_a_kind_keeps_the_plain_route_name() -> None:
    routes = source_routes({"zendesk": RecordingWriter()})
    assert list(routes) == [KIND] and routes[KIND].system is None


@dataclass
class Stub:
    name: str
    kind: str


def _configured(name: str, primary: bool = False) -> ConfiguredSource:
    from connectors.base import SourceConfig

    return ConfiguredSource(f"sources.yaml item {name}", SourceConfig(name, "x"), primary=primary)


def test_primary_true_puts_a_source_first_and_two_of_a_kind_are_refused() -> None:
    built = {n: Stub(n, k) for n, k in [("salesforce", "crm"), ("zendesk", "helpdesk"), ("books", "crm")]}  # fmt: skip
    ordered = primary_first(built, [_configured("books", primary=True)])  # type: ignore[arg-type]
    assert list(ordered) == ["books", "salesforce", "zendesk"]
    assert list(primary_first(built, [])) == ["salesforce", "zendesk", "books"]  # type: ignore[arg-type]
    both = [_configured("books", True), _configured("salesforce", True)]
    with pytest.raises(ConfigError, match="both `primary: true` crm sources"):
        primary_first(built, both)  # type: ignore[arg-type]
