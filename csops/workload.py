"""Book-of-business load per CSM and rebalance suggestions (pure: rows in, decisions out).

An account weighs its tier's weight (plus ARR / `arr_unit` when set); each open escalation
adds `escalation_weight`. An owner
is over target above target * (1 + tolerance); suggestions move an overloaded owner's lightest
accounts to the least-loaded owner allowed by the assignment rules until it is back in range.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from csops.config import AssignmentRule, WorkloadConfig


@dataclass(frozen=True)
class BookAccount:
    account_id: int
    name: str
    owner: str
    segment: str | None
    tier: str | None
    region: str | None
    arr: float
    open_escalations: int


@dataclass
class OwnerLoad:
    owner: str
    accounts: int = 0
    arr: float = 0.0
    open_escalations: int = 0
    load: float = 0.0
    status: str = "ok"  # over | ok | room
    ids: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class Move:
    account_id: int
    account: str
    weight: float
    from_owner: str
    to_owner: str


def weight(a: BookAccount, config: WorkloadConfig) -> float:
    tier = config.tier_weights.get(a.tier or "", config.default_tier_weight)
    arr = a.arr / config.arr_unit if config.arr_unit else 0.0
    return tier + arr + config.escalation_weight * a.open_escalations


def allowed(a: BookAccount, rules: Sequence[AssignmentRule]) -> list[str] | None:
    """The owners the first matching rule allows (None: anyone)."""
    for r in rules:
        if all(want is None or want == have for want, have in
               ((r.segment, a.segment), (r.tier, a.tier), (r.region, a.region))):  # fmt: skip
            return list(r.owners) or None
    return None


def loads(book: Sequence[BookAccount], config: WorkloadConfig) -> tuple[list[OwnerLoad], float]:
    """Load per owner, heaviest first, and the target they are measured against."""
    by: dict[str, OwnerLoad] = {}
    for a in book:
        o = by.setdefault(a.owner, OwnerLoad(a.owner))
        o.accounts += 1
        o.arr += a.arr
        o.open_escalations += a.open_escalations
        o.load += weight(a, config)
        o.ids.append(a.account_id)
    rows = sorted(by.values(), key=lambda o: -o.load)
    target = config.target_load or (sum(o.load for o in rows) / len(rows) if rows else 0.0)
    for o in rows:
        if o.load > target * (1 + config.tolerance):
            o.status = "over"
        elif o.load < target * (1 - config.tolerance):
            o.status = "room"
    return rows, target


def suggest_moves(
    book: Sequence[BookAccount], config: WorkloadConfig, away: frozenset[str] = frozenset()
) -> list[Move]:
    """Accounts to move off overloaded owners, lightest first, each to the least-loaded owner
    the account's rule allows who stays within target after taking it (and is not away)."""
    rows, target = loads(book, config)
    load = {o.owner: o.load for o in rows}
    ceiling = target * (1 + config.tolerance)
    moves: list[Move] = []
    for o in rows:
        if o.status != "over":
            continue
        mine = sorted((a for a in book if a.owner == o.owner), key=lambda a: weight(a, config))
        for a in mine:
            if load[o.owner] <= ceiling:
                break
            w = weight(a, config)
            pool = allowed(a, config.assignment_rules) or list(load)
            takers = [
                p for p in pool
                if p != o.owner and p not in away and load.get(p, 0.0) + w <= target
            ]  # fmt: skip
            if not takers:
                continue
            to = min(takers, key=lambda p: load.get(p, 0.0))
            load[o.owner] -= w
            load[to] = load.get(to, 0.0) + w
            moves.append(Move(a.account_id, a.name, w, o.owner, to))
    return moves


def assignments(
    book: Sequence[BookAccount], config: WorkloadConfig, away: frozenset[str] = frozenset()
) -> list[Move]:
    """Accounts whose owner the assignment rules do not allow, each to the least-loaded owner
    the rule allows who is not away (accounts with no allowed owner present are left)."""
    rows, _ = loads(book, config)
    load = {o.owner: o.load for o in rows}
    moves = []
    for a in book:
        pool = allowed(a, config.assignment_rules)
        if pool is None or a.owner in pool:
            continue
        present = [p for p in pool if p not in away]
        if not present:
            continue
        to = min(present, key=lambda p: (load.get(p, 0.0), p))
        w = weight(a, config)
        load[a.owner] = load.get(a.owner, 0.0) - w
        load[to] = load.get(to, 0.0) + w
        moves.append(Move(a.account_id, a.name, w, a.owner, to))
    return moves
