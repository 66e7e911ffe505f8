"""Generate the Salesforce side of the world: users, accounts, trajectories, opportunities, contacts."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from sandbox import names
from sandbox.dates import at
from sandbox.formats import sf_id
from sandbox.gen_deals import opportunities
from sandbox.gen_fate import Fate, draw_fate
from sandbox.world import World

SEGMENTS = (("Enterprise", 0.15), ("Mid-Market", 0.35), ("SMB", 0.50))
_ARR = {"Enterprise": (120_000, 900_000), "Mid-Market": (25_000, 150_000), "SMB": (3_000, 30_000)}


def _pick(rng: random.Random, table: tuple[tuple[str, float], ...]) -> str:
    r, acc = rng.random(), 0.0
    for value, weight in table:
        acc += weight
        if r < acc:
            return value
    return table[-1][0]


def generate_users(world: World, rng: random.Random, accounts: int) -> list[str]:
    """Salesforce users: account owners (CSMs and AEs) plus the integration user."""
    ids = []
    created = world.clock.now() - dt.timedelta(days=1500)
    for n in range(max(4, accounts // 40) + 1):
        first, last = names.person(rng)
        uid = sf_id("005", 1000 + n)
        name = "Pulsehub Integration" if n == 0 else f"{first} {last}"
        email = f"{first}.{last}{n}@sandbox-vendor.example".lower()
        world.sf["User"][uid] = {
            "Id": uid,
            "Name": name,
            "FirstName": first,
            "LastName": last,
            "Email": email,
            "Username": email,
            "IsActive": n % 17 != 5,
            "IsDeleted": False,
            "CreatedDate": created,
            "LastModifiedDate": created,
            "SystemModstamp": created,
        }
        ids.append(uid)
    return ids[1:]


def generate_account(
    world: World, rng: random.Random, index: int, owners: list[str], dup_of: dict[str, Any] | None
) -> dict[str, Any]:
    """One account with its trajectory, opportunities and contacts."""
    today = world.clock.today().toordinal()
    segment = _pick(rng, SEGMENTS)
    fate = draw_fate(rng, today)
    traj, since, renewal = fate.trajectory, fate.since, fate.next_renewal
    legal, bare, domain = names.company_name(rng, index)
    if dup_of is not None:
        legal, bare, domain = dup_of["Name"], dup_of["_bare"], dup_of["Website"][12:]
    lo, hi = _ARR[segment]
    arr = round(rng.uniform(lo, hi) * (1.0 if rng.random() > 0.1 else 1.6), -2)
    tier = {"Enterprise": "Tier 1", "Mid-Market": "Tier 2", "SMB": "Tier 3"}[segment]
    if segment == "Enterprise" and arr > 450_000:
        tier = "Strategic"
    acc_id = sf_id("001", 10_000 + index)
    created = at(since - rng.randint(10, 60), rng)
    stage = "Adoption"
    if today - since < 120:
        stage = "Onboarding"
    elif 0 <= renewal - today <= 120:
        stage = "Renewal"
    churned = traj.churn_day is not None and traj.churn_day <= today
    modstamp = at(min(today - 1, max(since, today - rng.randint(1, 200))), rng)
    if churned and traj.churn_day is not None:
        modstamp = max(modstamp, at(traj.churn_day, rng))
    record: dict[str, Any] = {
        "Id": acc_id,
        "Name": legal,
        "_bare": bare,
        "Website": f"https://www.{domain}",
        "Type": "Former Customer" if churned else "Customer",
        "Industry": rng.choice(names.INDUSTRIES),
        "OwnerId": rng.choice(owners),
        "ParentId": None,
        "IsDeleted": False,
        "CreatedDate": created,
        "LastModifiedDate": modstamp,
        "SystemModstamp": modstamp,
        "ARR__c": 0.0 if churned else arr,
        "Tier__c": tier,
        "Segment__c": segment,
        "Lifecycle_Stage__c": stage,
        "Customer_Since__c": dt.date.fromordinal(since),
        "Renewal_Date__c": dt.date.fromordinal(renewal),
        "Zendesk_Org_Id__c": None,
        "Usage_Workspace_Id__c": None,
        "Health_Score__c": None,
        "Health_Status__c": None,
        "Health_Trend__c": None,
        "Health_Reasons__c": None,
        "Renewal_Risk__c": None,
        "Renewal_Risk_Level__c": None,
        "Renewal_Risk_Drivers__c": None,
        "Pulsehub_Synced_At__c": None,
        "NumberOfEmployees": int(arr / rng.uniform(300, 900)) + 5,
    }
    world.sf["Account"][acc_id] = record
    world.trajectories[acc_id] = traj
    world.truth.setdefault("drivers", {})[acc_id] = fate.drivers()
    opportunities(world, rng, record, fate, arr, renewal, today)
    _contacts(world, rng, record, fate, domain, today)
    return record


def _contacts(
    world: World, rng: random.Random, acc: dict[str, Any], fate: Fate, domain: str, today: int
) -> None:
    count = {"Enterprise": 6, "Mid-Market": 4, "SMB": 3}[acc["Segment__c"]]
    roles = ["Champion", "Economic Buyer", "Executive Sponsor", "Admin", "User", "User"][:count]
    if rng.random() < 0.12:  # nobody was ever recorded as the champion
        roles[0] = "User"
    contacts = []
    for role in roles:
        first, last = names.person(rng)
        num = world.next_number("Contact", 100_000)
        cid = sf_id("003", num)
        created = at(fate.trajectory.start_day - rng.randint(0, 30), rng)
        contact = {
            "Id": cid,
            "AccountId": acc["Id"],
            "OwnerId": acc["OwnerId"],
            "FirstName": first,
            "LastName": last,
            "Name": f"{first} {last}",
            "Email": f"{first}.{last}{num % 97}@{domain}".lower(),
            "Title": rng.choice(names.TITLES),
            "Role__c": role,
            "Is_Champion__c": role == "Champion",
            "IsDeleted": False,
            "CreatedDate": created,
            "LastModifiedDate": created,
            "SystemModstamp": created,
        }
        world.sf["Contact"][cid] = contact
        contacts.append(contact)
    lost_day = fate.champion_left
    churn = fate.trajectory.churn_day
    if (
        not fate.champion_recorded
        or lost_day is None
        or lost_day >= today
        or lost_day < fate.trajectory.start_day
        or not contacts[0]["Is_Champion__c"]
        or (churn is not None and lost_day >= churn)
    ):
        return
    champion = contacts[0]
    when = at(lost_day, rng)
    if rng.random() < 0.5:  # the admin deletes the contact (to the recycle bin)
        champion.update(IsDeleted=True, LastModifiedDate=when, SystemModstamp=when)
    else:  # or keeps it, no longer the champion
        champion.update(
            Is_Champion__c=False,
            Role__c="User",
            Title="(left company)",
            LastModifiedDate=when,
            SystemModstamp=when,
        )
    world.truth.setdefault("champion_lost", {})[acc["Id"]] = dt.date.fromordinal(lost_day)
    successor_day = lost_day + rng.randint(14, 90)
    if rng.random() < 0.5 and successor_day < min(today, churn or today):
        _successor(world, rng, acc, fate, domain, successor_day)


def _successor(
    world: World, rng: random.Random, acc: dict[str, Any], fate: Fate, domain: str, day: int
) -> None:
    """A new contact, entered as the champion the day the successor is named."""
    first, last = names.person(rng)
    num = world.next_number("Contact", 100_000)
    cid = sf_id("003", num)
    when = at(day, rng)
    world.sf["Contact"][cid] = {
        "Id": cid, "AccountId": acc["Id"], "OwnerId": acc["OwnerId"], "FirstName": first,
        "LastName": last, "Name": f"{first} {last}",
        "Email": f"{first}.{last}{num % 97}@{domain}".lower(), "Title": rng.choice(names.TITLES),
        "Role__c": "Champion", "Is_Champion__c": True, "IsDeleted": False, "CreatedDate": when,
        "LastModifiedDate": when, "SystemModstamp": when,
    }  # fmt: skip


def generate_sales(world: World, rng: random.Random, accounts: int) -> None:
    """Users, accounts (with parent/child links and a few duplicates), opportunities, contacts."""
    owners = generate_users(world, rng, accounts)
    enterprise: list[dict[str, Any]] = []
    made: list[dict[str, Any]] = []
    for index in range(accounts):
        dup = made[rng.randrange(len(made))] if made and rng.random() < 0.01 else None
        acc = generate_account(world, rng, index, owners, dup)
        if dup is not None:
            world.truth.setdefault("duplicate_accounts", []).append([dup["Id"], acc["Id"]])
        if enterprise and acc["Segment__c"] != "Enterprise" and rng.random() < 0.05:
            parent = rng.choice(enterprise)
            acc["ParentId"] = parent["Id"]
            acc["Website"] = parent["Website"]  # a subsidiary on its parent's domain
        if acc["Segment__c"] == "Enterprise":
            enterprise.append(acc)
        made.append(acc)
