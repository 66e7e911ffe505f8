"""A stand-in pusher for outbox tests: every item accepted, each batch's size noted."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from connectors.records import WriteResult


def ok_pusher(calls: list[int]) -> Callable[[Sequence[Any]], list[WriteResult]]:
    """A pusher that accepts every item, noting each batch's size in `calls`."""

    def pusher(items: Sequence[Any]) -> list[WriteResult]:
        calls.append(len(items))
        return [WriteResult.success(str(i.target_id)) for i in items]

    return pusher
