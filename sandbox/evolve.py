"""Clock control: move the world forward day by day (tickets, solves, renewals, churn, modstamps).

Simplified: time only moves forward; health trajectories are fixed at generation, so no new
account starts declining after the world is built.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from sandbox.formats import from_epoch, sf_id
from sandbox.gen_support import append_sorted, tickets_for_day
from sandbox.tickets import CLOSED, DELETED, HOLD, NEW, OPEN, PENDING, SOLVED
from sandbox.world import World


def advance(world: World, days: int) -> dict[str, int]:
    """Jump `days` forward and evolve what happened meanwhile; returns counts of changes."""
    if days < 1:
        raise ValueError("advance(days=) must be >= 1")
    stats = {"tickets_created": 0, "tickets_solved": 0, "renewals_won": 0, "renewals_lost": 0}
    with world.lock:
        first = world.clock.today().toordinal() + 1
        world.clock.jump(days)
        now = world.clock.epoch()
        today = world.clock.today().toordinal()
        rng = random.Random(f"{world.seed}:advance:{first}:{days}")
        rates = world.truth.get("ticket_rate", {})
        for day in range(first, today + 1):
            batch: list[tuple[int, ...]] = []
            for acc_id, oid in world.account_orgs.items():
                traj = world.trajectories[acc_id]
                batch.extend(tickets_for_day(world, rng, oid, traj, rates.get(oid, 0.3), day, now))
            append_sorted(world, batch)
            stats["tickets_created"] += len(batch)
        stats["tickets_solved"] = _progress_tickets(world, now)
        _renewals(world, rng, today, stats)
        stats["lifecycle_changes"] = _lifecycle(world, rng, today)
    return stats


def _progress_tickets(world: World, now: int) -> int:
    t = world.tickets
    solved = 0
    for p in range(len(t)):
        status = t.status[p]
        if status in (NEW, OPEN, PENDING, HOLD) and t.resolution_min[p]:
            due = t.created[p] + t.resolution_min[p] * 60
            if due < now - 300:
                t.status[p], t.solved[p] = SOLVED, due
                t.touch(p, due)
                solved += 1
            elif status == NEW and t.created[p] + t.reply_min[p] * 60 < now:
                t.status[p] = OPEN
                t.touch(p, t.created[p] + t.reply_min[p] * 60)
        elif status == SOLVED and now - t.solved[p] > 4 * 86400 and status != DELETED:
            t.status[p] = CLOSED
            t.touch(p, t.solved[p] + 4 * 86400)
    return solved


def _renewals(world: World, rng: random.Random, today: int, stats: dict[str, int]) -> None:
    """Open renewals whose close date passed are won, or lost by accounts on a churn path."""
    opps = world.sf["Opportunity"]
    for opp in list(opps.values()):
        if opp["IsClosed"] or opp["IsDeleted"] or opp["Type"] != "Renewal":
            continue
        if opp["CloseDate"].toordinal() > today:
            continue
        acc = world.sf["Account"][opp["AccountId"]]
        traj = world.trajectories[acc["Id"]]
        when = from_epoch(world.clock.epoch() - rng.randrange(3600, 7200))
        lost = traj.churn_day is not None and traj.churn_day <= today
        opp.update(
            StageName="Closed Lost" if lost else "Closed Won",
            IsClosed=True,
            IsWon=not lost,
            Probability=0.0 if lost else 100.0,
            LastModifiedDate=when,
            SystemModstamp=when,
        )
        if lost:
            acc.update(Type="Former Customer", ARR__c=0.0)
            world.truth.setdefault("churned", {})[acc["Id"]] = opp["CloseDate"]
            stats["renewals_lost"] += 1
        else:
            nxt = opp["CloseDate"] + dt.timedelta(days=365)
            acc["Renewal_Date__c"] = nxt
            _new_renewal(world, acc, nxt, when)
            stats["renewals_won"] += 1
        acc.update(LastModifiedDate=when, SystemModstamp=when)


def _lifecycle(world: World, rng: random.Random, today: int) -> int:
    """Accounts move Onboarding -> Adoption -> Renewal as their dates come (modstamp moves)."""
    changed = 0
    for acc in world.sf["Account"].values():
        if acc["Type"] != "Customer":
            continue
        stage = "Adoption"
        if today - acc["Customer_Since__c"].toordinal() < 120:
            stage = "Onboarding"
        elif 0 <= acc["Renewal_Date__c"].toordinal() - today <= 120:
            stage = "Renewal"
        if stage != acc["Lifecycle_Stage__c"]:
            when = from_epoch(world.clock.epoch() - rng.randrange(600, 3600))
            acc.update(Lifecycle_Stage__c=stage, LastModifiedDate=when, SystemModstamp=when)
            changed += 1
    return changed


def _new_renewal(world: World, acc: dict[str, Any], close: dt.date, when: dt.datetime) -> None:
    oid = sf_id("006", world.next_number("Opportunity", 50_000))
    world.sf["Opportunity"][oid] = {
        "Id": oid,
        "AccountId": acc["Id"],
        "OwnerId": acc["OwnerId"],
        "Name": f"{acc['_bare']} - Renewal {close.year}",
        "Type": "Renewal",
        "StageName": "Prospecting",
        "Amount": acc["ARR__c"],
        "CloseDate": close,
        "Probability": 10.0,
        "IsClosed": False,
        "IsWon": False,
        "IsDeleted": False,
        "CreatedDate": when,
        "LastModifiedDate": when,
        "SystemModstamp": when,
    }
