"""Re-send only what was not confirmed: a batch write whose answer was lost is read back first.

A connection reset, a timeout, a 5xx or a garbled body after a batch write leaves the
client not knowing which of its records the API applied. Re-sending the whole batch writes
every applied record again; instead `send_confirmed` reads the records back, counts those
already at the wanted value as done, and re-sends only the rest. A 429 (or any other
rate-limit answer) means nothing was applied, so it is waited out and re-sent by the
transport as before. `same_value` compares a value sent with the value read back across the
APIs' spellings (numbers as text, `...Z` vs `...+0000` timestamps, booleans as text).
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from connectors.errors import ConnectorError, Fatal, RateLimited, Retriable
from connectors.http import RetryPolicy
from connectors.records import parse_iso

logger = logging.getLogger(__name__)
K = TypeVar("K")


@dataclass
class Outcome(Generic[K]):
    """What became of a batch: the answer to the last send and the items it carried, the items
    confirmed by reading back, and the items left unknown or failed with `error`."""

    response: Any = None
    sent: list[K] = field(default_factory=list)
    confirmed: list[K] = field(default_factory=list)
    failed: list[K] = field(default_factory=list)
    error: ConnectorError | None = None
    resent: int = 0  # items sent again after an unanswered send


def unanswered(exc: ConnectorError) -> bool:
    """Whether the write may have been applied although no usable answer came back."""
    return isinstance(exc, Retriable) and not isinstance(exc, RateLimited)


def send_confirmed(
    items: Sequence[K],
    send: Callable[[list[K]], Any],
    confirm: Callable[[list[K]], Collection[K]],
    policy: RetryPolicy,
    *,
    check_first: Collection[K] = (),
) -> Outcome[K]:
    """Send `items`; after an unanswered send, read them back (`confirm` returns the items
    already at their wanted value) and send only the others, up to `policy.max_attempts`.

    `send` must not re-send by itself after an unanswered call (call it non-idempotent).
    Items in `check_first` may have been applied by an earlier run: they are read back before
    the first send. When a read-back fails, the unconfirmed items fail with the send's error
    (retriable: the outbox tries them later) rather than being sent blind.
    """
    out: Outcome[K] = Outcome()
    todo = list(items)
    if check_first and (first := [k for k in todo if k in check_first]):
        try:
            found = set(confirm(first))
        except (Retriable, Fatal) as exc:
            return Outcome(failed=todo, error=exc)
        out.confirmed += [k for k in first if k in found]
        todo = [k for k in todo if k not in found]
    for attempt in range(max(1, policy.max_attempts)):
        if not todo:
            return out
        if attempt:
            out.resent += len(todo)
        try:
            out.response, out.sent = send(todo), todo
            return out
        except (Retriable, Fatal) as exc:  # auth and budget errors stop the caller
            out.error = exc
            if not unanswered(exc) or attempt + 1 >= policy.max_attempts:
                break
        policy.sleep(min(policy.max_wait, policy.initial_wait * 2**attempt))
        try:
            found = set(confirm(todo))
        except (Retriable, Fatal) as exc:
            logger.warning("cannot read back %s unanswered writes: %s", len(todo), exc)
            break
        out.confirmed += [k for k in todo if k in found]
        todo = [k for k in todo if k not in found]
        logger.info(
            "unanswered write (%s): %s confirmed by reading back, re-sending %s",
            out.error,
            len(found),
            len(todo),
        )
    out.failed = todo
    return out


def same_value(sent: Any, stored: Any) -> bool:
    """Whether a value read back is the value sent, allowing for the API's own spelling."""
    if sent in (None, "") or stored in (None, ""):
        return sent in (None, "") and stored in (None, "")
    if isinstance(sent, bool) or isinstance(stored, bool):
        return str(sent).lower() == str(stored).lower()
    a, b = _number(sent), _number(stored)
    if a is not None and b is not None:
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
    if isinstance(sent, str) and isinstance(stored, str):
        t1, t2 = _instant(sent), _instant(stored)
        if t1 is not None and t2 is not None:
            return t1 == t2
    return bool(sent == stored)


def _number(value: Any) -> float | None:
    if isinstance(value, int | float):
        return float(value)
    try:
        return float(value) if isinstance(value, str) and value.strip() else None
    except ValueError:
        return None


def _instant(value: str) -> dt.datetime | None:
    """A timestamp with a time of day (a bare date compares as text)."""
    return parse_iso(value) if "T" in value else None
