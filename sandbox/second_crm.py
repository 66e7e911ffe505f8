"""A second crm org over the same customer base: an acquired company's Salesforce.

`split_crm(world)` builds a World whose Salesforce side a second `Sandbox` serves on its
own port (its Zendesk and usage sides are empty; point only a crm source at it):

- "both": customers the acquired company also sells to — an Account in each org with the
  same website (so they resolve by domain) and the same name; their contacts copied;
- "only": customers only the acquired org has — new companies with domains of their own,
  each with a contact;

Record ids collide across the orgs by construction: the second org's accounts and contacts
reuse the first org's ids, each on another customer than in the first org. The second org
carries no helpdesk or workspace ids (`Zendesk_Org_Id__c`, `Usage_Workspace_Id__c` null):
those name records of the first org's systems. `truth["second_crm"]` maps each fate to the
second org's ids (and, for "both", the first org's id of the same customer).
"""

from __future__ import annotations

import random
from typing import Any

from sandbox.world import World

BOTH, ONLY = "both", "only"
_CLEARED = ("Zendesk_Org_Id__c", "Usage_Workspace_Id__c", "ParentId")


def split_crm(world: World, *, both: float = 0.3, only: int = 3) -> World:
    """The second org: `both` of the first org's live customers (a share), plus `only` new
    ones. Does not change `world`."""
    rng = random.Random(f"{world.seed}:second-crm")
    second = World(seed=world.seed, clock=world.clock, usage_days=world.usage_days)
    second.sf["User"] = {k: dict(v) for k, v in world.sf["User"].items()}
    accounts = [a for a in world.sf["Account"].values() if not a["IsDeleted"]]
    ids = [a["Id"] for a in accounts]
    domains = {a["Website"] for a in accounts}
    shared = [a for a in accounts if rng.random() < both and _unique_site(a, accounts)]
    contacts: dict[str, list[dict[str, Any]]] = {}
    for c in world.sf["Contact"].values():
        contacts.setdefault(c["AccountId"], []).append(c)
    contact_ids = iter(reversed([c["Id"] for c in world.sf["Contact"].values()]))
    truth: dict[str, dict[str, str | None]] = {BOTH: {}, ONLY: {}}
    # the n-th account of the second org takes the id of the first org's (n+1)-th account:
    # the same id, another customer
    position = {acc_id: i for i, acc_id in enumerate(ids)}
    taken = {ids[(position[a["Id"]] + 1) % len(ids)] for a in shared}
    spare = iter([i for i in reversed(ids) if i not in taken])
    for n, acc in enumerate([*shared, *accounts[:only]]):
        new_id = ids[(position[acc["Id"]] + 1) % len(ids)] if n < len(shared) else next(spare)
        copy = {**acc, "Id": new_id, **dict.fromkeys(_CLEARED)}
        if n >= len(shared):  # a company of its own, modelled on an existing one
            copy["Name"] = f"{acc['_bare']} Labs {n}"
            copy["_bare"] = f"{acc['_bare']} Labs {n}"
            copy["Website"] = f"https://www.{acc['_bare'].lower().replace(' ', '')}labs{n}.io"
            assert copy["Website"] not in domains
            truth[ONLY][new_id] = None
        else:
            truth[BOTH][new_id] = acc["Id"]
        second.sf["Account"][new_id] = copy
        for c in contacts.get(acc["Id"], [])[:2]:
            cid = next(contact_ids)
            second.sf["Contact"][cid] = {**c, "Id": cid, "AccountId": new_id}
    second.truth["second_crm"] = truth
    return second


def _unique_site(acc: dict[str, Any], accounts: list[dict[str, Any]]) -> bool:
    return sum(1 for a in accounts if a["Website"] == acc["Website"]) == 1
