"""Stand-in pushers for outbox tests: per-record results shaped like a connector's."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass
class Result:
    target_id: str
    ok: bool
    retriable: bool = False
    error_code: str | None = None
    message: str | None = None
    created_id: str | None = None


def ok_pusher(calls: list[int]) -> Callable[[Sequence[Any]], list[Result]]:
    """A pusher that accepts every item, noting each batch's size in `calls`."""

    def pusher(items: Sequence[Any]) -> list[Result]:
        calls.append(len(items))
        return [Result(str(i.target_id), True) for i in items]

    return pusher
