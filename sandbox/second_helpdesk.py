"""A second helpdesk instance over the same customer base: an acquired company's Zendesk.

`split_helpdesk(world)` takes some customers' support out of the generated world into a new
World that a second `Sandbox` serves on its own port (two instances, two base URLs):

- "both": customers the acquired team also supported — an organization in each instance,
  their tickets divided between the two (the newer half of the story in either);
- "moved": customers supported by the acquired team only — their organization and every
  ticket leave the first instance (and the crm's organization field that named it is
  cleared: it named a record of the first instance);
- everyone else stays in the first instance only.

The second instance numbers its records from the same bases as the first, so ids collide
across instances by construction: its organization ORG_BASE is another customer than the
first's ORG_BASE, and its ticket 1 another ticket than the first's ticket 1. Its
organizations carry no crm id (`external_id` null: the acquired helpdesk never knew the
crm) but their customer's domain, so they resolve by domain.

Only customers whose first-instance organization is linked by crm id and whose domain is
theirs alone are picked, so the truth (`truth["second_helpdesk"]`) is unambiguous. The
second world serves tickets, organizations, users and writes; it does not evolve
(`Sandbox.advance` on the first world adds tickets to the first instance only).
"""

from __future__ import annotations

import random
from collections import Counter
from typing import Any

from sandbox.gen_support import ORG_BASE, USER_BASE
from sandbox.tickets import COLUMNS, TicketTable
from sandbox.world import ORG_FIELD_KEYS, World

BOTH, MOVED = "both", "moved"


def split_helpdesk(world: World, *, both: float = 0.25, moved: float = 0.15) -> World:
    """Move a share of `world`'s customers' support into a second instance; returns it.

    `both` and `moved` are the shares of eligible customers in each instance or in the
    second only. Mutates `world` (call before serving it)."""
    rng = random.Random(f"{world.seed}:second-helpdesk")
    second = World(seed=world.seed, clock=world.clock, usage_days=world.usage_days)
    second.groups = [dict(g) for g in world.groups]
    second.agents = list(world.agents)
    for uid in world.agents:
        second.zd_users[uid] = dict(world.zd_users[uid])
    plan = _plan(world, rng, both, moved)
    org_map = _copy_orgs(world, second, plan)
    _split_tickets(world, second, plan, org_map, rng)
    second.truth["org_account"] = {new: world.truth["org_account"][old] for old, new in org_map.items()}  # fmt: skip
    _drop_moved(world, [oid for oid, fate in plan.items() if fate == MOVED])
    world.truth["second_helpdesk"] = {
        fate: sorted(second.truth["org_account"][org_map[oid]] for oid, f in plan.items() if f == fate)
        for fate in (BOTH, MOVED)
    }  # fmt: skip
    second.truth["second_helpdesk"] = world.truth["second_helpdesk"]
    return second


def _plan(world: World, rng: random.Random, both: float, moved: float) -> dict[int, str]:
    """Organization id (first instance) -> its fate, for the eligible customers."""
    domains = Counter(a["Website"] for a in world.sf["Account"].values())
    plan: dict[int, str] = {}
    for acc_id, oid in sorted(world.account_orgs.items(), key=lambda kv: kv[1]):
        acc = world.sf["Account"][acc_id]
        if world.truth["org_link"].get(oid) != "external_id" or domains[acc["Website"]] > 1:
            continue
        r = rng.random()
        if r < both:
            plan[oid] = BOTH
        elif r < both + moved:
            plan[oid] = MOVED
    return plan


def _copy_orgs(world: World, second: World, plan: dict[int, str]) -> dict[int, int]:
    """The second instance's organizations and end-users, numbered from the first's bases."""
    org_map: dict[int, int] = {}
    account_of = world.truth["org_account"]
    for n, oid in enumerate(sorted(plan)):
        new = ORG_BASE + n
        org_map[oid] = new
        acc = world.sf["Account"][account_of[oid]]
        old = world.orgs[oid]
        second.orgs[new] = {
            **old,
            "id": new,
            "name": acc["Name"],
            "external_id": None,
            "domain_names": [acc["Website"][12:]],
            "organization_fields": dict.fromkeys(ORG_FIELD_KEYS),
        }
        second.account_orgs[acc["Id"]] = new
        requesters = []
        for uid in world.org_requesters.get(oid, []):
            copy = second.next_number("zd_user", USER_BASE + 1_000)
            second.zd_users[copy] = {**world.zd_users[uid], "id": copy, "organization_id": new}
            requesters.append(copy)
        second.org_requesters[new] = requesters
    second.org_requesters[0] = []
    second.counters["zd_user"] = max(second.counters.get("zd_user", 0), USER_BASE + 1_000)
    return org_map


def _split_tickets(
    world: World, second: World, plan: dict[int, str], org_map: dict[int, int], rng: random.Random
) -> None:
    """Rebuild both ticket tables in creation order: moved customers' tickets all go to the
    second instance, a random half of the shared customers' tickets too."""
    old = world.tickets
    users = {
        uid: copy
        for oid, new in org_map.items()
        for uid, copy in zip(world.org_requesters.get(oid, []), second.org_requesters[new], strict=True)
    }  # fmt: skip
    columns = [getattr(old, name) for name in COLUMNS]
    keep, move = TicketTable(), TicketTable()
    for pos in range(len(old)):
        row = [c[pos] for c in columns]
        oid = row[0]
        fate = plan.get(oid)
        goes = fate == MOVED or (fate == BOTH and rng.random() < 0.5)
        table = move if goes else keep
        if goes:
            row[0], row[1] = org_map[oid], users.get(row[1], row[1])
        _carry(old, pos, table, len(table))
        table.extend([tuple(row)])
    world.tickets = keep
    second.tickets = move


def _carry(old: TicketTable, pos: int, table: TicketTable, new_pos: int) -> None:
    """A ticket's written tags, API attributes and comments follow it to its new position."""
    for attr in ("tag_override", "extra", "comments"):
        value: Any = getattr(old, attr).get(pos)
        if value is not None:
            getattr(table, attr)[new_pos] = value


def _drop_moved(world: World, moved: list[int]) -> None:
    """The first instance no longer holds the moved customers' organizations or end-users."""
    for oid in moved:
        acc_id = world.truth["org_account"].pop(oid)
        world.truth["org_link"].pop(oid, None)
        world.truth.get("ticket_rate", {}).pop(oid, None)
        del world.orgs[oid]
        world.account_orgs.pop(acc_id, None)
        for uid in world.org_requesters.pop(oid, []):
            world.zd_users.pop(uid, None)
        acc = world.sf["Account"][acc_id]
        if acc.get("Zendesk_Org_Id__c") == str(oid):
            acc["Zendesk_Org_Id__c"] = None
