"""The keyset cursor: what it keeps at its rendered time and how boundary rows are judged."""

from __future__ import annotations

import datetime as dt

from connectors.salesforce import _last_position
from connectors.salesforce_streams import SEEN_MAX, SPECS, Keyset, after_cursor

T = dt.datetime(2026, 12, 5, 12, 0, 0, 123000, tzinfo=dt.UTC)
SPEC = SPECS["accounts"]


def row(rid: str, ts: dt.datetime) -> dict[str, str]:
    return {"Id": rid, "SystemModstamp": ts.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "+00:00"}


def test_a_cursor_keeps_the_ids_of_its_rendered_time_across_pages() -> None:
    first = _last_position(SPEC, [row("001A", T - dt.timedelta(seconds=1)), row("001C", T)], None)
    assert first == Keyset(T, "001C", frozenset({"001C"}))
    second = _last_position(SPEC, [row("001B", T)], first)
    assert second == Keyset(T, "001B", frozenset({"001B", "001C"}))
    assert Keyset.decode(second.encode()) == second


def test_a_row_of_the_cursor_time_not_yet_delivered_is_kept_whatever_its_id() -> None:
    position = Keyset(T, "001C", frozenset({"001C"}))
    sent = [row("001C", T), row("001B", T), row("001D", T + dt.timedelta(seconds=1))]
    assert [r["Id"] for r in after_cursor(sent, position, SPEC)] == ["001B", "001D"]


def test_a_cursor_saved_before_seen_ids_keeps_the_id_order_rule() -> None:
    old = Keyset.decode('{"ts": "2026-12-05T12:00:00.123000+00:00", "id": "001C"}')
    assert old.seen == frozenset()
    sent = [row("001B", T), row("001C", T), row("001D", T)]
    assert [r["Id"] for r in after_cursor(sent, old, SPEC)] == ["001D"]


def test_too_many_ids_at_one_time_fall_back_to_the_id_order_rule() -> None:
    rows = [row(f"001{n:015d}", T) for n in range(SEEN_MAX + 1)]
    position = _last_position(SPEC, rows, None)
    assert position is not None and position.seen == frozenset()
    assert "seen" not in position.encode()


def test_a_cursor_whose_ids_at_its_time_are_unknown_stays_on_the_id_order_rule() -> None:
    """An older cursor, or one past the cap: the ids delivered at its time are unknown, so the
    next page at the same time must not start a partial set (it would take an earlier row of
    that time, already delivered, for a new one)."""
    unknown = Keyset(T, "001C")
    following = _last_position(SPEC, [row("001D", T)], unknown)
    assert following == Keyset(T, "001D")
    sent = [row("001B", T), row("001E", T)]
    assert [r["Id"] for r in after_cursor(sent, following, SPEC)] == ["001E"]
