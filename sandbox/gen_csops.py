"""Customer-success operations stories in the synthetic world: handoff documentation on every
account (most complete), one incomplete handoff about to happen, one stalled onboarding (signed,
never went live) and one overloaded CSM. Runs after the other generators with its own random
stream, so their worlds are unchanged but for the fields set here."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from sandbox.world import World

DOCUMENTED = 0.85  # chance each checklist field is filled in on an ordinary account


def generate_csops(world: World, rng: random.Random) -> None:
    accounts = sorted(world.sf["Account"].values(), key=lambda a: a["Id"])
    owners = sorted({a["OwnerId"] for a in accounts})
    today = world.clock.today()
    for acc in accounts:
        _document(acc, rng, today, owners)
    onboarding = [a for a in accounts if a["Lifecycle_Stage__c"] == "Onboarding"]
    truth: dict[str, Any] = world.truth.setdefault("csops", {})
    if onboarding:  # the account closest to moving to support, with a thin handoff
        due = max(onboarding, key=lambda a: (today - a["Customer_Since__c"]).days)
        due.update(Success_Plan__c=None, Implementation_Notes__c=None)
        truth["incomplete_handoff"] = due["Id"]
        _stalled(world, [a for a in onboarding if a is not due], today, truth)
    if len(owners) > 1:  # one CSM carries a fifth of everyone else's book too
        heavy = owners[0]
        for acc in accounts:
            if acc["OwnerId"] != heavy and rng.random() < 0.2:
                acc["OwnerId"] = heavy
        truth["overloaded_csm"] = heavy


def _document(acc: dict[str, Any], rng: random.Random, today: dt.date, owners: list[str]) -> None:
    since: dt.date = acc["Customer_Since__c"]
    live = since + dt.timedelta(days=rng.randint(10, 40))
    acc["Go_Live_Date__c"] = live if live <= today and rng.random() < DOCUMENTED + 0.1 else None
    name = acc.get("_bare") or acc["Name"]
    slug = "".join(c for c in name.lower() if c.isalnum())[:30]
    plan = f"https://docs.sandbox-vendor.example/success-plans/{slug}"
    acc["Success_Plan__c"] = plan if rng.random() < DOCUMENTED else None
    acc["Success_Objectives__c"] = (
        f"Roll out to {rng.choice(('all teams', 'the support floor', 'two regions'))}; "
        f"cut time to resolution by {rng.randint(10, 40)}%"
        if rng.random() < DOCUMENTED
        else None
    )
    acc["Implementation_Notes__c"] = (
        f"SSO via {rng.choice(('Okta', 'Azure AD', 'Google'))}; "
        f"{rng.randint(1, 4)} integrations configured"
        if rng.random() < DOCUMENTED
        else None
    )
    acc["Implementation_Owner__c"] = rng.choice(owners)
    acc["Onboarding_Phase__c"] = None


def _stalled(
    world: World, candidates: list[dict[str, Any]], today: dt.date, truth: dict[str, Any]
) -> None:
    """Signed weeks ago and never went live: no go-live date and no usage at all."""
    old = [a for a in candidates if (today - a["Customer_Since__c"]).days >= 30]
    if not old:
        return
    with_usage = {w.account_id for w in world.workspaces}
    bare = [a for a in old if a["Id"] not in with_usage]
    acc = bare[0] if bare else old[0]
    for ws in [w for w in world.workspaces if w.account_id == acc["Id"]]:
        world.workspaces.remove(ws)
        world.truth.get("workspace_account", {}).pop(ws.id, None)
    acc.update(Go_Live_Date__c=None, Usage_Workspace_Id__c=None)
    truth["stalled_onboarding"] = acc["Id"]
