"""Changing a fraction of the world as people and products do, and counting what changed.

`change_fraction` is the benchmark's "1% changed": reps edit accounts, opportunities and
contacts, agents reply on tickets, admins edit organizations, and late-arriving events
revise past usage rows — each a `fraction` of its records, chosen by `seed`, stamped now.
`changed_since` counts per pulled stream the records whose change time is after a moment:
the fewest records any incremental client must read.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from sandbox.formats import from_epoch, to_epoch
from sandbox.tickets import CLOSED, DELETED, NEW, OPEN
from sandbox.usage import changed_keys, daily_row, has_row
from sandbox.world import World
from sandbox.zd_shapes import rating_created

Edit = Callable[[dict[str, Any], random.Random], None]


def _count(fraction: float, n: int) -> int:
    return min(n, round(fraction * n))


def _account(acc: dict[str, Any], rng: random.Random) -> None:
    """A rep updates the headcount."""
    acc["NumberOfEmployees"] = max(
        1, int((acc.get("NumberOfEmployees") or 50) * rng.uniform(0.9, 1.2))
    )


def _opportunity(opp: dict[str, Any], rng: random.Random) -> None:
    """A rep moves an open deal's probability, or fixes a closed deal's name."""
    if opp["IsClosed"]:
        opp["Name"] = opp["Name"].removesuffix(" (reviewed)") + " (reviewed)"
    else:
        opp["Probability"] = float(rng.choice((10, 25, 50, 75, 90)))


def _contact(contact: dict[str, Any], rng: random.Random) -> None:
    """A contact's title is corrected."""
    title = contact.get("Title") or "Manager"
    contact["Title"] = (
        title.removeprefix("Senior ") if title.startswith("Senior ") else f"Senior {title}"
    )


SF_EDITS: dict[str, Edit] = {"Account": _account, "Opportunity": _opportunity, "Contact": _contact}


def change_fraction(world: World, fraction: float, seed: int) -> dict[str, int]:
    """Change `fraction` of every pulled kind of record, deterministically by `seed`."""
    if not 0 <= fraction <= 1:
        raise ValueError("fraction must be between 0 and 1")
    rng = random.Random(f"{world.seed}:change:{seed}:{fraction}")
    out: dict[str, int] = {}
    with world.lock:
        now = world.clock.epoch()
        when = from_epoch(now)
        for obj, edit in SF_EDITS.items():
            live = [r for r in world.sf[obj].values() if not r["IsDeleted"]]
            for record in rng.sample(live, _count(fraction, len(live))):
                edit(record, rng)
                record.update(LastModifiedDate=when, SystemModstamp=when)
            out[f"salesforce.{obj}"] = _count(fraction, len(live))
        orgs = [o for o in world.orgs.values() if o.get("deleted_at") is None]
        for org in rng.sample(orgs, _count(fraction, len(orgs))):
            org["notes"] = f"Account review {when:%Y-%m-%d}"
            org["updated_at"] = max(now, org["updated_at"])
        out["zendesk.organizations"] = _count(fraction, len(orgs))
        out["zendesk.tickets"] = _reply_on_tickets(world, rng, fraction, now)
        out["usage.daily_usage"] = _late_usage(world, rng, fraction, now)
    return out


def _reply_on_tickets(world: World, rng: random.Random, fraction: float, now: int) -> int:
    """Replies on `fraction` of all tickets, among those still open to replies (not closed)."""
    t = world.tickets
    live = [p for p in range(len(t)) if t.status[p] not in (CLOSED, DELETED)]
    chosen = rng.sample(live, min(len(live), _count(fraction, len(t))))
    for p in chosen:
        t.replies[p] = min(t.replies[p] + 1, 32767)
        if t.status[p] == NEW:
            t.status[p] = OPEN
        t.touch(p, now)
    return len(chosen)


def _late_usage(world: World, rng: random.Random, fraction: float, now: int) -> int:
    """Late events revise `fraction` of the past rows of the usage history (rows with users)."""
    today = world.clock.today().toordinal()
    first = today - world.usage_days
    spaces = world.workspaces
    rows = sum(
        max(0, today - max(first, world.trajectories[w.account_id].start_day)) for w in spaces
    )
    wanted, revised, tries = _count(fraction, rows), 0, 0
    clock = world.clock.now()
    picked: set[tuple[str, int]] = set()
    while revised < wanted and tries < 20 * wanted + 100:
        tries += 1
        ws, day = rng.choice(spaces), rng.randrange(first, today)
        if (ws.id, day) in picked or not has_row(world, ws, day, today):
            continue
        row = daily_row(world, ws, day, clock)
        if row is None or row["active_users"] == 0:
            continue
        picked.add((ws.id, day))
        _, extra = world.usage_revisions.get((ws.id, day), (0, 0))
        world.usage_revisions[(ws.id, day)] = (now, extra + rng.randint(1, 5))
        revised += 1
    return revised


def changed_since(world: World, since: float) -> dict[str, int]:
    """Records per pulled stream changed after `since` (epoch seconds) and up to now."""
    with world.lock:
        now = world.clock.now()
        epoch = to_epoch(now)
        mark = from_epoch(since)
        out = {
            f"salesforce.{obj}": sum(
                1 for r in world.sf[obj].values() if r["SystemModstamp"] > mark
            )
            for obj in SF_EDITS
        }
        out["zendesk.organizations"] = sum(
            1 for o in world.orgs.values() if o["updated_at"] > since
        )
        t = world.tickets
        out["zendesk.tickets"] = sum(1 for u in t.updated if u > since)
        out["zendesk.satisfaction_ratings"] = sum(
            1
            for p in range(len(t))
            if t.csat[p] and t.status[p] != DELETED and since < rating_created(t, p) <= epoch
        )
        out["usage.workspaces"] = sum(1 for w in world.workspaces if w.updated_at > since)
        out["usage.daily_usage"] = len(changed_keys(world, int(since), epoch, now))
        out["usage.surveys"] = sum(1 for r in world.surveys if since < r["updated_at"] <= epoch)
    # users are derived from contacts and the day (sandbox.usage_users), outside the lock
    from sandbox.usage_users import all_users

    out["usage.users"] = sum(1 for u in all_users(world, now) if since < u["_updated"] <= epoch)
    return out
