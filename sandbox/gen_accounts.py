"""Generate the Salesforce side of the world: users, accounts, trajectories, opportunities, contacts."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from sandbox import names
from sandbox.dates import anniversary_after, at
from sandbox.formats import sf_id
from sandbox.gen_deals import opportunities
from sandbox.trajectory import (
    CHURNED,
    DECLINING,
    HEALTHY,
    HISTORIC_CHURN,
    ONBOARDING,
    RECOVERING,
    Trajectory,
)
from sandbox.world import World

SEGMENTS = (("Enterprise", 0.15), ("Mid-Market", 0.35), ("SMB", 0.50))
_ARR = {"Enterprise": (120_000, 900_000), "Mid-Market": (25_000, 150_000), "SMB": (3_000, 30_000)}
_KINDS = (
    (CHURNED, 0.12),
    (DECLINING, 0.08),
    (RECOVERING, 0.06),
    (ONBOARDING, 0.10),
    (HISTORIC_CHURN, 0.03),
    (HEALTHY, 0.61),
)


def _pick(rng: random.Random, table: tuple[tuple[str, float], ...]) -> str:
    r, acc = rng.random(), 0.0
    for value, weight in table:
        acc += weight
        if r < acc:
            return value
    return table[-1][0]


def make_trajectory(rng: random.Random, kind: str, today: int) -> tuple[Trajectory, int, int]:
    """A trajectory plus (customer_since, renewal day) consistent with its kind."""
    base = rng.uniform(0.55, 0.95) if rng.random() > 0.15 else rng.uniform(0.4, 0.55)
    phase = rng.randrange(60)
    if kind == CHURNED:
        churn = today - (rng.randint(5, 60) if rng.random() < 0.7 else rng.randint(61, 170))
        since = churn - 365 * rng.randint(1, 3)
        start = churn - rng.randint(45, 100)
        traj = Trajectory(kind, max(base, 0.6), rng.uniform(0.08, 0.25), since, start, churn, churn)
        return traj, since, churn
    if kind == HISTORIC_CHURN:
        churn = today - rng.randint(200, 700)
        since = churn - 365 * rng.randint(1, 2)
        start = churn - rng.randint(45, 100)
        traj = Trajectory(kind, base, 0.15, since, start, churn, churn, phase)
        return traj, since, churn
    if kind == DECLINING:
        renewal = today + rng.randint(20, 120)
        since = renewal - 365 * rng.randint(1, 3)
        start = today - rng.randint(30, 90)
        traj = Trajectory(kind, max(base, 0.6), rng.uniform(0.15, 0.3), since, start, renewal)
        traj.phase = phase
        if rng.random() < 0.7:  # will lose the upcoming renewal unless someone intervenes
            traj.churn_day = renewal
        return traj, since, renewal
    if kind == ONBOARDING:
        since = today - rng.randint(5, 100)
        return Trajectory(kind, base, base, since, phase=phase), since, since + 365
    since = today - rng.randint(120, 1500)
    next_renewal = anniversary_after(dt.date.fromordinal(since), dt.date.fromordinal(today))
    traj = Trajectory(kind, base, base, since, phase=phase)
    if kind == RECOVERING:
        traj.decline_start = today - rng.randint(60, 150)
        traj.decline_end = traj.decline_start + rng.randint(40, 80)
        traj.floor = rng.uniform(0.25, 0.4)
    return traj, since, next_renewal.toordinal()


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
    kind = _pick(rng, _KINDS)
    traj, since, renewal = make_trajectory(rng, kind, today)
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
    opportunities(world, rng, record, traj, arr, since, renewal, today)
    _contacts(world, rng, record, traj, domain, today)
    return record


def _contacts(
    world: World, rng: random.Random, acc: dict[str, Any], traj: Trajectory, domain: str, today: int
) -> None:
    count = {"Enterprise": 6, "Mid-Market": 4, "SMB": 3}[acc["Segment__c"]]
    roles = ["Champion", "Economic Buyer", "Executive Sponsor", "Admin", "User", "User"][:count]
    contacts = []
    for role in roles:
        first, last = names.person(rng)
        num = world.next_number("Contact", 100_000)
        cid = sf_id("003", num)
        created = at(traj.start_day - rng.randint(0, 30), rng)
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
    lost_day = None
    if traj.kind in (CHURNED, HISTORIC_CHURN) and traj.decline_start is not None:
        lost_day = traj.decline_start + rng.randint(0, 30)
    elif traj.kind == DECLINING and traj.decline_start is not None and rng.random() < 0.6:
        lost_day = traj.decline_start + rng.randint(0, 20)
    elif traj.kind == HEALTHY and rng.random() < 0.04:
        lost_day = today - rng.randint(30, 300)
    if lost_day is None or lost_day >= today:
        return
    champion = contacts[0]
    when = at(lost_day, rng)
    champion.update(
        Is_Champion__c=False,
        Role__c="User",
        Title="(left company)",
        LastModifiedDate=when,
        SystemModstamp=when,
    )
    world.truth.setdefault("champion_lost", {})[acc["Id"]] = dt.date.fromordinal(lost_day)
    if traj.kind == HEALTHY and len(contacts) > 3:
        successor = contacts[3]
        later = at(min(today - 1, lost_day + 14), rng)
        successor.update(
            Is_Champion__c=True, Role__c="Champion", LastModifiedDate=later, SystemModstamp=later
        )


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
