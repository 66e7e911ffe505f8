"""Drop items a paged export delivers twice, in constant memory."""

from __future__ import annotations

from collections import deque
from collections.abc import Hashable

RECENT_KEEP = 5000  # five export pages of 1,000


class RecentMarkers:
    """The (id, version) markers of the last `keep` items delivered in one pull.

    Repeats come from page boundaries: a time-based export re-sends the items stamped with
    the boundary second, and a cursor export can re-send an item updated mid-export (with a
    newer version, so a different marker anyway). A window of recent markers drops those
    without the set growing with the stream: a whole set held every ticket of a first sync
    (millions at 50,000 accounts). A repeat the window misses costs one idempotent upsert of
    the same (id, version), nothing more.
    """

    def __init__(self, keep: int = RECENT_KEEP) -> None:
        self.keep = keep
        self._order: deque[Hashable] = deque()
        self._set: set[Hashable] = set()

    def __contains__(self, marker: object) -> bool:
        return marker in self._set

    def __len__(self) -> int:
        return len(self._set)

    def add(self, marker: Hashable) -> None:
        if marker in self._set:
            return
        self._set.add(marker)
        self._order.append(marker)
        if len(self._order) > self.keep:
            self._set.discard(self._order.popleft())
