"""Contract history before the simulated decisions: what retention reporting needs to show.

`gen_deals` books new business, the renewals of the last two years (decided by `gen_fate`
from 420 days ago on), expansions and the lost renewal. This pass completes the older
history without changing anything `gen_fate` decided (every change but the last is dated
before today - 420 days, where no renewal is decided) and draws from its own random stream,
so the rest of the world is generated the same with or without it:

- the renewals gen_deals never booked (more than 760 days ago), won, each a little up or down;
- multi-year renewals (25% of Enterprise and Mid-Market accounts sign a 2-year term once,
  booked as the 2-year amount with `Term_Months__c` 24; the renewal it replaces is dropped);
- late renewals (12% of old renewals close 5 to 25 days after their due date);
- mid-term expansions co-termed to the next renewal (10% of accounts: the add-on is renewed
  as its own opportunity on the base contract's renewal date);
- mid-term contractions (6%: a downsell, and the next renewal is that much smaller);
- consolidation in a family: a subsidiary (child account) that loses its renewal while its
  parent is a customer has half a chance of moving its seats to the parent that day (the
  parent books an expansion of the child's ARR).
"""

from __future__ import annotations

import datetime as dt
import random
from itertools import pairwise
from typing import Any

from sandbox.dates import anniversary_after, at
from sandbox.formats import sf_id
from sandbox.gen_fate import PAST
from sandbox.world import World

Opp = dict[str, Any]


def _book(world: World, rng: random.Random, acc: dict[str, Any], **fields: Any) -> Opp:
    """A closed-won opportunity dated `CloseDate` (in the past)."""
    oid = sf_id("006", world.next_number("Opportunity", 50_000))
    close: dt.date = fields["CloseDate"]
    created = at(close.toordinal() - rng.randint(30, 90), rng)
    mod = at(close.toordinal(), rng)
    opp: Opp = {
        "Id": oid, "AccountId": acc["Id"], "OwnerId": acc["OwnerId"], "IsClosed": True,
        "IsWon": True, "IsDeleted": False, "StageName": "Closed Won", "Probability": 100.0,
        "CreatedDate": created, "LastModifiedDate": mod, "SystemModstamp": mod,
        "Term_Months__c": 12.0, **fields,
    }  # fmt: skip
    world.sf["Opportunity"][oid] = opp
    return opp


def _won(opps: list[Opp], kind: str) -> list[Opp]:
    return sorted(
        (o for o in opps if o["Type"] == kind and o["IsWon"] and not o["IsDeleted"]),
        key=lambda o: o["CloseDate"],
    )


def _annual(o: Opp) -> float:
    return float(o["Amount"]) * 12.0 / float(o.get("Term_Months__c") or 12.0)


def _backfill(world: World, rng: random.Random, acc: dict[str, Any], opps: list[Opp]) -> None:
    """Won renewals for the anniversaries gen_deals skipped (before its first one)."""
    nb = _won(opps, "New Business")
    if not nb:
        return
    renewals = [o for o in opps if o["Type"] == "Renewal"]
    first = min((o["CloseDate"] for o in renewals), default=world.clock.today())
    since = nb[0]["CloseDate"]
    amount = float(nb[0]["Amount"])
    day = anniversary_after(since, since + dt.timedelta(days=362))
    while day < first - dt.timedelta(days=300):
        amount = round(amount * rng.uniform(0.97, 1.08), -2)
        name = f"{acc['_bare']} - Renewal {day.year}"
        opps.append(_book(world, rng, acc, Name=name, Type="Renewal", Amount=amount, CloseDate=day))
        day = anniversary_after(since, day + dt.timedelta(days=300))


def _old_pairs(opps: list[Opp], cutoff: dt.date) -> list[tuple[Opp, Opp]]:
    won = [o for o in _won(opps, "Renewal") if o["CloseDate"] < cutoff]
    return list(pairwise(won))


def enrich_history(world: World, rng: random.Random) -> None:
    """Complete every account's contract history before the simulated window (module doc)."""
    cutoff = world.clock.today() - dt.timedelta(days=PAST)
    by_account: dict[str, list[Opp]] = {}
    for o in world.sf["Opportunity"].values():
        by_account.setdefault(o["AccountId"], []).append(o)
    counts = {"multi_year": 0, "late": 0, "co_termed": 0, "contraction": 0, "moved": 0}
    for acc in world.sf["Account"].values():
        opps = by_account.setdefault(acc["Id"], [])
        _backfill(world, rng, acc, opps)
        pairs = _old_pairs(opps, cutoff)
        if pairs and acc["Segment__c"] != "SMB" and rng.random() < 0.25:
            first, second = pairs[rng.randrange(len(pairs))]
            first.update(Amount=round(first["Amount"] * 2, -2), Term_Months__c=24.0,
                         Name=f"{first['Name']} (2-year)")  # fmt: skip
            del world.sf["Opportunity"][second["Id"]]
            opps.remove(second)
            counts["multi_year"] += 1
        counts["late"] += _late(rng, opps, cutoff)
        pairs = _old_pairs(opps, cutoff)
        if pairs and rng.random() < 0.10:
            base, renewal = pairs[rng.randrange(len(pairs))]
            gap = (renewal["CloseDate"] - base["CloseDate"]).days
            if gap > 200:
                day = base["CloseDate"] + dt.timedelta(days=rng.randint(60, gap - 60))
                extra = round(_annual(base) * rng.uniform(0.1, 0.3), -2)
                _book(world, rng, acc, Name=f"{acc['_bare']} - Add-on", Type="Expansion",
                      Amount=extra, CloseDate=day)  # fmt: skip
                _book(world, rng, acc, Name=f"{renewal['Name']} (add-on, co-termed)",
                      Type="Renewal", Amount=round(extra * rng.uniform(0.95, 1.1), -2),
                      CloseDate=renewal["CloseDate"])  # fmt: skip
                counts["co_termed"] += 1
        elif pairs and rng.random() < 0.07:
            base, renewal = pairs[rng.randrange(len(pairs))]
            gap = (renewal["CloseDate"] - base["CloseDate"]).days
            if gap > 200:
                day = base["CloseDate"] + dt.timedelta(days=rng.randint(60, gap - 60))
                cut = round(_annual(base) * rng.uniform(0.1, 0.25), -2)
                _book(world, rng, acc, Name=f"{acc['_bare']} - Seat reduction", Type="Downsell",
                      Amount=cut, CloseDate=day)  # fmt: skip
                renewal["Amount"] = max(100.0, round(renewal["Amount"] - cut, -2))
                counts["contraction"] += 1
    counts["moved"] = _consolidate(world, rng, by_account)
    world.truth["history"] = counts


def _late(rng: random.Random, opps: list[Opp], cutoff: dt.date) -> int:
    """Some old renewals close 5 to 25 days after their due date (inside the grace window)."""
    won = [o for o in _won(opps, "Renewal") if o["CloseDate"] < cutoff - dt.timedelta(days=30)]
    n = 0
    for o in won:
        if rng.random() < 0.12:
            o["CloseDate"] += dt.timedelta(days=rng.randint(5, 25))
            o["LastModifiedDate"] = o["SystemModstamp"] = at(o["CloseDate"].toordinal(), rng)
            n += 1
    return n


def _consolidate(world: World, rng: random.Random, by_account: dict[str, list[Opp]]) -> int:
    """A child's lost renewal becomes a move to its parent when the parent is a customer."""
    moved = 0
    accounts = world.sf["Account"]
    for acc in accounts.values():
        parent = accounts.get(acc["ParentId"] or "")
        lost = [o for o in by_account[acc["Id"]] if o["Type"] == "Renewal" and o["IsClosed"]
                and not o["IsWon"]]  # fmt: skip
        if parent is None or not lost or rng.random() >= 0.5:
            continue
        day = lost[0]["CloseDate"]
        parent_opps = by_account[parent["Id"]]
        started = any(o["CloseDate"] < day for o in _won(parent_opps, "New Business"))
        parent_lost = [o["CloseDate"] for o in parent_opps if o["Type"] == "Renewal"
                       and o["IsClosed"] and not o["IsWon"]]  # fmt: skip
        if not started or any(d <= day for d in parent_lost):
            continue
        won = [o for o in _won(by_account[acc["Id"]], "Renewal") if o["CloseDate"] < day]
        seats = _annual(won[-1]) if won else float(lost[0]["Amount"])
        _book(world, rng, parent, Name=f"{parent['_bare']} - Seats moved from {acc['_bare']}",
              Type="Expansion", Amount=round(seats, -2), CloseDate=day)  # fmt: skip
        world.truth.setdefault("moved_to_parent", {})[acc["Id"]] = day
        moved += 1
    return moved
