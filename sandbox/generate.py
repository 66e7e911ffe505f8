"""Build a deterministic world from (accounts, seed, now): the single entry point of generation."""

from __future__ import annotations

import datetime as dt
import logging
import random

from sandbox.gen_accounts import generate_sales
from sandbox.gen_csops import generate_csops
from sandbox.gen_history import enrich_history
from sandbox.gen_support import generate_agents, generate_orgs, generate_tickets
from sandbox.gen_surveys import generate_surveys
from sandbox.usage import generate_workspaces
from sandbox.usage_users import add_access_stories
from sandbox.world import Clock, World

log = logging.getLogger(__name__)


def build_world(
    accounts: int,
    seed: int,
    now: dt.datetime | None = None,
    usage_days: int = 180,
    ticket_days: int | None = None,
    ticket_rate: float = 1.0,
) -> World:
    """Generate the whole synthetic customer base; same arguments, same world."""
    anchor = now or dt.datetime.now(dt.UTC).replace(microsecond=0)
    world = World(seed=seed, clock=Clock(anchor), usage_days=usage_days)
    world.truth["churned"] = {}  # filled as renewals are lost (even if none is, in a tiny world)
    # what regenerates this world: build_world(accounts, seed, now=world.truth["anchor"])
    world.truth["anchor"] = anchor
    sales_rng = random.Random(f"{seed}:sales")
    generate_sales(world, sales_rng, accounts)
    enrich_history(world, random.Random(f"{seed}:history"))  # its own stream: nothing else moves
    support_rng = random.Random(f"{seed}:support")
    generate_agents(world, support_rng, accounts)
    generate_orgs(world, support_rng)
    generate_tickets(
        world, random.Random(f"{seed}:tickets"), ticket_days or usage_days, ticket_rate
    )
    generate_workspaces(world, random.Random(f"{seed}:usage"))
    generate_csops(world, random.Random(f"{seed}:csops"))
    generate_surveys(world, random.Random(f"{seed}:surveys"))
    add_access_stories(world)  # sandbox/usage_users.py: a contact who left keeps app access
    world.truth["trajectory"] = {k: t.as_dict() for k, t in world.trajectories.items()}
    today = world.clock.today().toordinal()
    world.truth["will_churn"] = {  # accounts that will lose a renewal still to come
        k: dt.date.fromordinal(t.churn_day)
        for k, t in world.trajectories.items()
        if t.churn_day is not None and t.churn_day > today
    }
    log.info("generated world %s", world.counts())
    return world
