"""RecentMarkers: repeats near each other are dropped; memory stays at `keep` markers."""

from __future__ import annotations

from connectors.dedupe import RecentMarkers


def test_window_drops_recent_repeats_and_forgets_old_ones() -> None:
    seen = RecentMarkers(keep=3)
    for m in [(1, "a"), (2, "a"), (3, "a")]:
        seen.add(m)
    assert (1, "a") in seen and (3, "a") in seen
    seen.add((3, "a"))  # a repeat is not counted twice
    seen.add((4, "a"))
    assert (1, "a") not in seen and (2, "a") in seen and len(seen) == 3


def test_a_long_stream_keeps_constant_memory() -> None:
    seen = RecentMarkers(keep=1000)
    for i in range(100_000):
        seen.add((i, 0))
    assert len(seen) == 1000 and (99_999, 0) in seen and (0, 0) not in seen
