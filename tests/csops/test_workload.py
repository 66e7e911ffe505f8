"""Book load per CSM, rebalance suggestions within assignment rules, and cover routing."""

from __future__ import annotations

import datetime as dt

import pytest

from csops.config import AssignmentRule, WorkloadConfig
from csops.covers import CoverError, active_covers, add_cover, end_cover, route_owner
from csops.workload import BookAccount, loads, suggest_moves
from tests.scoring import factories as f

WEIGHTS = {"Strategic": 3.0, "Tier 1": 2.0, "Tier 3": 1.0}


def acc(
    i: int, owner: str, tier: str = "Tier 3", esc: int = 0, segment: str = "SMB"
) -> BookAccount:
    return BookAccount(i, f"A{i}", owner, segment, tier, None, 1000.0 * i, esc)


def test_load_weighs_tier_and_open_escalations() -> None:
    book = [
        acc(1, "ann", "Strategic", esc=2),
        acc(2, "ann"),
        acc(3, "bob"),
        acc(4, "bob", "Tier 1"),
    ]
    rows, target = loads(book, WorkloadConfig(tier_weights=WEIGHTS, escalation_weight=1.0))
    assert [(r.owner, r.accounts, r.load, r.open_escalations) for r in rows] == [
        ("ann", 2, 6.0, 2), ("bob", 2, 3.0, 0),
    ]  # fmt: skip
    assert target == 4.5
    assert [r.status for r in rows] == ["over", "room"]  # ±25% of the team mean


def test_arr_weighs_in_when_an_arr_unit_is_set() -> None:
    book = [acc(1, "ann"), acc(500, "bob")]  # ARR 1k and 500k, both Tier 3
    rows, _ = loads(book, WorkloadConfig(tier_weights=WEIGHTS, arr_unit=250_000))
    assert {r.owner: r.load for r in rows} == {"ann": 1.004, "bob": 3.0}


def test_suggestions_move_the_lightest_accounts_to_whoever_has_room() -> None:
    book = [acc(i, "ann") for i in range(1, 9)] + [acc(9, "bob"), acc(10, "cy", "Strategic")]
    config = WorkloadConfig(tier_weights=WEIGHTS, target_load=4.0, tolerance=0.25)
    moves = suggest_moves(book, config)
    assert all(m.from_owner == "ann" for m in moves)
    load = {"ann": 8.0, "bob": 1.0, "cy": 3.0}
    for m in moves:
        load[m.from_owner] -= m.weight
        load[m.to_owner] += m.weight
    assert load["ann"] <= 5.0 and max(load["bob"], load["cy"]) <= 4.0


def test_suggestions_respect_the_assignment_rules() -> None:
    book = [acc(i, "ann", segment="Enterprise") for i in range(1, 7)] + [
        acc(7, "bob"),
        acc(8, "cy"),
    ]
    rules = [AssignmentRule(segment="Enterprise", owners=["ann", "cy"])]
    config = WorkloadConfig(tier_weights=WEIGHTS, target_load=3.0, assignment_rules=rules)
    moves = suggest_moves(book, config)
    assert moves and {m.to_owner for m in moves} == {"cy"}


def test_a_cover_in_force_receives_the_owners_tasks_then_they_go_back() -> None:
    s = f.make_session()
    day = dt.date(2026, 6, 1)
    row = add_cover(s, "005A", "005B", day, day + dt.timedelta(days=4), "leave")
    assert route_owner(active_covers(s, day), "005A") == "005B"
    assert route_owner(active_covers(s, day), "005C") == "005C"
    assert route_owner(active_covers(s, day + dt.timedelta(days=5)), "005A") == "005A"
    add_cover(s, "005B", "005D", day, day)  # the cover is away too: passed on once
    assert route_owner(active_covers(s, day), "005A") == "005D"
    end_cover(s, row.id, day + dt.timedelta(days=2))
    assert route_owner(active_covers(s, day + dt.timedelta(days=2)), "005A") == "005A"
    with pytest.raises(CoverError, match="swap them"):
        add_cover(s, "005A", "005B", day, day - dt.timedelta(days=1))
    with pytest.raises(CoverError, match="someone other"):
        add_cover(s, "005A", "005A", day, day)
    s.close()
