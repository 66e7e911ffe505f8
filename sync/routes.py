"""Push routes built from what each connector's writer declares (`writer.kinds`).

sync holds no vendor knowledge here: a route per declared write kind, with the kind's batch
size, window, splitter and in-flight mark; its pusher hands the writer `WriteItem`s made
from outbox items, each with the item's key (a creation's idempotency key).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace

from connectors.base import Connector, Splitter, WriteItem, WriteKind, Writer
from connectors.records import WriteResult
from sync.outbox_results import DueItem, OutboxEntry
from sync.push import Pusher, Route
from sync.writeback import FieldTarget


def write_item(item: OutboxEntry) -> WriteItem:
    """The write an outbox item asks for, without sync's own bookkeeping (`_meta`); a
    payload without it is handed on as it is (writers only read it)."""
    payload = item.payload
    if "_meta" in payload:
        payload = {k: v for k, v in payload.items() if k != "_meta"}
    return WriteItem(str(item.target_id), payload, maybe_sent(item), key=item.key)


def maybe_sent(item: OutboxEntry) -> bool:
    """Whether an earlier send of this item may have landed with its answer lost: it failed
    before (`attempts`), failed and was put back by an operator (`last_error` stays), or was
    marked in flight by a process that died before recording the result (`IN_FLIGHT`)."""
    return item.attempts > 0 or bool(item.last_error)


def writer_routes(writers: Iterable[Writer | None]) -> dict[str, Route]:
    """A route per write kind the writers declare, in their order (a writer lists creations
    before the writes that may refer to them)."""
    routes: dict[str, Route] = {}
    for writer in writers:
        if writer is None:
            continue
        for kind in writer.kinds.values():
            split = _split(kind.split) if kind.split is not None else None
            routes[kind.name] = Route(
                _pusher(writer, kind), kind.batch_size, kind.window, split, kind.mark_in_flight
            )
    return routes


def source_routes(writers: Mapping[str, Writer | None]) -> dict[str, Route]:
    """A route per write kind of each source's writer (source name -> writer). A kind two
    sources declare (two helpdesk instances) gets a route per source, keyed "<kind>@<source>",
    that drains only that source's items into that source's writer."""
    declared = Counter(k for w in writers.values() if w is not None for k in w.kinds)
    routes: dict[str, Route] = {}
    for source, writer in writers.items():
        for name, route in writer_routes([writer]).items():
            if declared[name] > 1:
                routes[f"{name}@{source}"] = replace(route, kind=name, system=source)
            else:
                routes[name] = route
    return routes


def field_targets(
    kinds: Mapping[str, Mapping[str, WriteKind]],
) -> dict[str, tuple[FieldTarget, ...]]:
    """The write kinds the planner plans, by the entity they write (one target per source
    that writes it, in source order), from each source's declared kinds (source name -> its
    writer's `kinds`)."""
    out: dict[str, tuple[FieldTarget, ...]] = {}
    for source, declared in kinds.items():
        for kind in declared.values():
            if kind.entity is not None:
                out[kind.entity] = (*out.get(kind.entity, ()), FieldTarget(source, kind))
    return out


def write_targets(connectors: Mapping[str, Connector]) -> dict[str, tuple[FieldTarget, ...]]:
    """The field write kinds the connectors' writers declare, by entity (see `field_targets`)."""
    return field_targets(
        {name: c.writer.kinds for name, c in connectors.items() if c.writer is not None}
    )


def _pusher(writer: Writer, kind: WriteKind) -> Pusher:
    def push(items: Sequence[DueItem]) -> Sequence[WriteResult]:
        return writer.push(kind.name, [write_item(i) for i in items])

    return push


def _split(split: Splitter) -> Splitter:
    """The kind's splitter applied to outbox items (it reads their payloads)."""

    def cut(items: Sequence[DueItem]) -> list[list[DueItem]]:
        writes = [write_item(i) for i in items]
        by_write = {id(w): i for w, i in zip(writes, items, strict=True)}
        return [[by_write[id(w)] for w in batch] for batch in split(writes)]

    return cut
