"""Generate opportunities: new business, two years of renewals (won, or lost on churn), expansions."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from sandbox.dates import anniversary_after, at
from sandbox.formats import sf_id
from sandbox.gen_fate import Fate
from sandbox.world import World

OPEN_STAGES = ("Prospecting", "Qualification", "Proposal/Price Quote", "Negotiation/Review")


def _opp(world: World, rng: random.Random, acc: dict[str, Any], **fields: Any) -> None:
    num = world.next_number("Opportunity", 50_000)
    oid = sf_id("006", num)
    close: dt.date = fields["CloseDate"]
    today = world.clock.today()
    created = at(close.toordinal() - rng.randint(30, 120), rng)
    if created >= world.clock.now() - dt.timedelta(hours=1):
        created = at(today.toordinal() - rng.randint(1, 30), rng)
    closed = fields["StageName"].startswith("Closed")
    mod = at(min(close.toordinal(), today.toordinal() - 1), rng) if closed else created
    mod = max(mod, created)
    world.sf["Opportunity"][oid] = {
        "Id": oid,
        "AccountId": acc["Id"],
        "OwnerId": acc["OwnerId"],
        "IsClosed": closed,
        "IsWon": fields["StageName"] == "Closed Won",
        "IsDeleted": False,
        "CreatedDate": created,
        "LastModifiedDate": mod,
        "SystemModstamp": mod,
        "Probability": 100.0 if fields["StageName"] == "Closed Won" else (0.0 if closed else 60.0),
        **fields,
    }


def opportunities(
    world: World,
    rng: random.Random,
    acc: dict[str, Any],
    fate: Fate,
    arr: float,
    renewal: int,
    today: int,
) -> None:
    """New business, won renewals (a downsell after half the budget cuts), the lost or open
    renewal, and a few expansions and deleted duplicates."""
    traj, since = fate.trajectory, fate.since
    name = acc["_bare"]
    first_arr = round(arr * rng.uniform(0.6, 1.0), -2)
    since_d = dt.date.fromordinal(since)
    _opp(
        world,
        rng,
        acc,
        Name=f"{name} - New Business",
        Type="New Business",
        StageName="Closed Won",
        Amount=first_arr,
        CloseDate=since_d,
    )
    churned = traj.churn_day is not None and traj.churn_day <= today
    stop = (
        (traj.churn_day - 30) if churned and traj.churn_day is not None else min(today, renewal - 1)
    )
    year = 1
    while True:
        day = anniversary_after(since_d, since_d + dt.timedelta(days=365 * year - 3))
        year += 1
        if day.toordinal() > stop:
            break
        if day.toordinal() >= today - 760:
            cut = fate.budget_cut
            kept = rng.uniform(0.85, 1.0)
            if cut is not None and 0 < day.toordinal() - cut <= 300 and rng.random() < 0.5:
                kept = rng.uniform(0.6, 0.8)
            _opp(
                world,
                rng,
                acc,
                Name=f"{name} - Renewal {day.year}",
                Type="Renewal",
                StageName="Closed Won",
                Amount=round(arr * kept, -2),
                CloseDate=day,
            )
    if churned and traj.churn_day is not None:
        lost = dt.date.fromordinal(traj.churn_day)
        _opp(
            world,
            rng,
            acc,
            Name=f"{name} - Renewal {lost.year}",
            Type="Renewal",
            StageName="Closed Lost",
            Amount=arr,
            CloseDate=lost,
        )
        world.truth.setdefault("churned", {})[acc["Id"]] = lost
    if traj.churn_day is None or traj.churn_day > today:
        days_out = renewal - today
        stage = OPEN_STAGES[0 if days_out > 90 else (2 if days_out > 45 else 3)]
        _opp(
            world,
            rng,
            acc,
            Name=f"{name} - Renewal {dt.date.fromordinal(renewal).year}",
            Type="Renewal",
            StageName=stage,
            Amount=arr,
            CloseDate=dt.date.fromordinal(renewal),
        )
    last = min(today, traj.churn_day or today) - 10  # engaged accounts expand, churners too
    first = max(since + 30, today - 300)
    if first < last and rng.random() < 0.1 + 0.4 * (traj.base - 0.35):
        _opp(
            world,
            rng,
            acc,
            Name=f"{name} - Expansion",
            Type="Expansion",
            StageName="Closed Won",
            Amount=round(arr * rng.uniform(0.1, 0.4), -2),
            CloseDate=dt.date.fromordinal(rng.randint(first, last)),
        )
    if len(world.sf["Account"]) % 20 == 3:  # one account in 20 has a deleted duplicate deal
        _opp(
            world,
            rng,
            acc,
            Name=f"{name} - Duplicate",
            Type="New Business",
            StageName="Closed Lost",
            Amount=0.0,
            CloseDate=since_d,
        )
        dup = list(world.sf["Opportunity"].values())[-1]
        dup["IsDeleted"] = True
        world.sf_deleted["Opportunity"][dup["Id"]] = dup["SystemModstamp"]
