"""Generate the Zendesk side of the world: groups, agents, organizations, end-users and tickets."""

from __future__ import annotations

import datetime as dt
import math
import random
from typing import Any

from sandbox import names
from sandbox.formats import to_epoch
from sandbox.tickets import CLOSED, DELETED, HOLD, NEW, OPEN, PENDING, SOLVED, TAG_SETS
from sandbox.trajectory import Trajectory
from sandbox.world import ORG_FIELD_KEYS, World

ORG_BASE = 360_000_000_000
USER_BASE = 370_000_000_000
GROUP_BASE = 380_000_000_000
GROUPS = ("Support", "Tier 2", "Billing", "Engineering Escalations")
_RATE = {"Enterprise": 1.1, "Mid-Market": 0.55, "SMB": 0.3}
# tag sets an unhealthy account leans towards (bug, outage, performance, sso)
_TROUBLE = (2, 3, 6, 7, 8)


def _user(uid: int, name: str, email: str, role: str, org: int | None, when: int) -> dict[str, Any]:
    return {
        "id": uid,
        "name": name,
        "email": email,
        "role": role,
        "organization_id": org,
        "created_at": when,
        "updated_at": when,
        "active": True,
        "verified": True,
        "suspended": False,
        "time_zone": "UTC",
        "locale": "en-US",
        "tags": [],
        "external_id": None,
        "phone": None,
        "details": "",
        "notes": "",
        "user_fields": {},
        "alias": None,
        "chat_only": False,
        "custom_role_id": None,
        "default_group_id": GROUP_BASE if role != "end-user" else None,
        "iana_time_zone": "Etc/UTC",
        "last_login_at": None,
        "locale_id": 1,
        "moderator": role == "admin",
        "only_private_comments": False,
        "photo": None,
        "remote_photo_url": None,
        "report_csv": role != "end-user",
        "restricted_agent": False,
        "role_type": None,
        "shared": False,
        "shared_agent": False,
        "shared_phone_number": None,
        "signature": None,
        "ticket_restriction": "requested" if role == "end-user" else None,
        "two_factor_auth_enabled": False,
    }


def generate_agents(world: World, rng: random.Random, accounts: int) -> None:
    """Groups and agents (one admin)."""
    when = world.clock.epoch() - 1500 * 86400
    for n, name in enumerate(GROUPS):
        world.groups.append(
            {
                "id": GROUP_BASE + n,
                "name": name,
                "created_at": when,
                "updated_at": when,
                "deleted": False,
                "default": n == 0,
                "description": "",
                "is_public": True,
            }
        )
    for n in range(max(5, accounts // 60)):
        first, last = names.person(rng)
        uid = USER_BASE + n
        role = "admin" if n == 0 else "agent"
        world.zd_users[uid] = _user(
            uid,
            f"{first} {last}",
            f"{first}.{last}{n}@sandbox-vendor.example".lower(),
            role,
            None,
            when,
        )
        world.agents.append(uid)
    world.counters["zd_user"] = USER_BASE + 1_000


def generate_orgs(world: World, rng: random.Random) -> None:
    """One org per account for ~92% of accounts with a mix of linkage, plus end-users from contacts."""
    truth_org = world.truth.setdefault("org_account", {})
    truth_link = world.truth.setdefault("org_link", {})
    dup_ids = {b for _, b in world.truth.get("duplicate_accounts", [])}
    now = world.clock.epoch()
    contacts: dict[str, list[dict[str, Any]]] = {}
    for c in world.sf["Contact"].values():
        contacts.setdefault(c["AccountId"], []).append(c)
    for n, acc in enumerate(world.sf["Account"].values()):
        if rng.random() < 0.08:
            continue
        oid = ORG_BASE + n
        domain = acc["Website"][12:]
        r = rng.random()
        link = "external_id" if r < 0.8 else ("domain" if r < 0.9 else "name")
        if acc["Id"] in dup_ids or (acc["ParentId"] and link != "external_id"):
            link = "ambiguous"
        name = acc["Name"] if link != "name" else names.name_variant(rng, acc["Name"], acc["_bare"])
        created = min(to_epoch(acc["CreatedDate"]) + rng.randrange(86400 * 20), now - 86400)
        world.orgs[oid] = {
            "id": oid,
            "name": name,
            "external_id": acc["Id"] if link == "external_id" else None,
            "domain_names": [] if link == "name" else [domain],
            "details": "",
            "notes": "",
            "group_id": None,
            "tags": [acc["Segment__c"].lower().replace("-", "_")],
            "shared_tickets": False,
            "shared_comments": False,
            "organization_fields": dict.fromkeys(ORG_FIELD_KEYS),
            "created_at": created,
            "updated_at": min(created + rng.randrange(86400 * 30), now - 3600),
            "deleted_at": None,
        }
        truth_org[oid] = acc["Id"]
        truth_link[oid] = link
        world.account_orgs[acc["Id"]] = oid
        if rng.random() < 0.3 and link == "external_id":
            acc["Zendesk_Org_Id__c"] = str(oid)
        requesters = []
        for c in contacts.get(acc["Id"], []):
            uid = world.next_number("zd_user", USER_BASE + 1_000)
            world.zd_users[uid] = _user(uid, c["Name"], c["Email"], "end-user", oid, created)
            requesters.append(uid)
        world.org_requesters[oid] = requesters
    loose = []  # end-users with no organization (personal addresses): unmatched tickets
    for n in range(max(3, len(world.orgs) // 50)):
        first, last = names.person(rng)
        uid = world.next_number("zd_user", USER_BASE + 1_000)
        email = f"{first}.{last}{n}@{('mail', 'inbox', 'post')[n % 3]}.example".lower()
        world.zd_users[uid] = _user(uid, f"{first} {last}", email, "end-user", None, now - 86400)
        loose.append(uid)
    world.org_requesters[0] = loose


TicketRow = tuple[int, ...]  # column values in tickets.COLUMNS order
_VIA = (0, 0, 0, 1, 1, 2, 3)
_UNIX_DAY0 = dt.date(1970, 1, 1).toordinal()


def ticket_for(
    world: World, rng: random.Random, oid: int, epoch: int, h: float, now: int, friction: float
) -> TicketRow:
    """Column values of one ticket created at `epoch` by an account of health `h` and support
    `friction`, aged to `now`: low health makes urgent, troubled tickets; friction makes slow
    replies and resolutions, reopens and bad ratings."""
    rnd = rng.random
    sick = 1.0 - h
    pain = min(1.0, 0.3 * sick + 1.1 * friction)
    r = rnd()
    prio = 4 if r < 0.02 + 0.12 * sick else 3 if r < 0.17 + 0.25 * sick else 2 if r < 0.8 else 1
    if rnd() < 0.04:
        prio = 0
    r = rnd()
    ttype = 1 if r < 0.35 else 2 if r < 0.75 else 3 if r < 0.83 else 4 if r < 0.9 else 0
    if rnd() < 0.15 + 0.3 * sick + 0.3 * friction:
        tags = _TROUBLE[int(rnd() * len(_TROUBLE))]
    else:
        tags = int(rnd() * len(TAG_SETS))
    reply = int(rng.lognormvariate(math.log(45 * (1 + 3 * pain)), 0.9)) + 1
    resolution = reply + int(rng.lognormvariate(math.log(1400 * (1 + 3 * pain)), 1.0))
    reopens = 0
    while rnd() < 0.06 + 0.35 * pain and reopens < 5:
        reopens += 1
    age = now - epoch
    solved = 0
    if rnd() < 0.005:
        status = DELETED
    elif resolution * 60 < age:
        solved = epoch + resolution * 60
        status = CLOSED if now - solved > 4 * 86400 else SOLVED
    elif reply * 60 > age:
        status = NEW
    else:
        status = OPEN if rnd() < 0.6 else (PENDING if rnd() < 0.8 else HOLD)
    updated = epoch + min(age, reply * 60)
    if solved:
        updated = solved + (4 * 86400 if status == CLOSED else 0)
    updated = max(epoch, min(updated + int(rnd() * 600), now - 300))
    csat = 0
    if solved:
        r = rnd()
        if r < 0.25:
            csat = 3 if rnd() < 0.05 + 0.7 * pain**1.3 else 2
        elif r < 0.45:
            csat = 1
    if rnd() < 0.02:  # someone writes in from a personal address: no organization
        oid = 0
    requesters = world.org_requesters.get(oid) or [0]
    agents = world.agents
    group = world.groups[3 if prio == 4 and rnd() < 0.5 else int(rnd() * 3)]["id"]
    return (
        oid,
        requesters[int(rnd() * len(requesters))],
        0 if status == NEW else agents[int(rnd() * len(agents))],
        group,
        epoch,
        updated,
        solved,
        status,
        prio,
        ttype,
        _VIA[int(rnd() * 7)],
        tags,
        reply,
        resolution,
        reopens,
        1 + reopens + int(rnd() * 4),
        csat,
    )


def tickets_for_day(
    world: World, rng: random.Random, oid: int, traj: Trajectory, rate: float, day: int, now: int
) -> list[TicketRow]:
    """Tickets an org opens on one day: more of them as health drops or friction rises."""
    h = traj.health(day)
    if h <= 0.0:
        return []
    friction = traj.friction
    lam = rate * (0.8 + 1.5 * (1.0 - h) ** 1.5 + 1.3 * friction)
    if (day - 1) % 7 >= 5:  # ordinal 1 is a Monday: weekends are quieter
        lam *= 0.3
    n = int(lam)
    if rng.random() < lam - n:
        n += 1
    start = (day - _UNIX_DAY0) * 86400
    out = []
    for _ in range(n):
        epoch = start + int(rng.random() * 86400)
        if epoch < now - 900:
            out.append(ticket_for(world, rng, oid, epoch, h, now, friction))
    return out


def append_sorted(world: World, batch: list[TicketRow]) -> None:
    """Append tickets in creation order so ids grow with created_at, as in Zendesk."""
    batch.sort(key=lambda row: row[4])
    world.tickets.extend(batch)


def generate_tickets(world: World, rng: random.Random, days: int, rate_scale: float) -> None:
    """Ticket history for `days` days ending now, one day at a time across all orgs."""
    now = world.clock.epoch()
    today = world.clock.today().toordinal()
    rates = world.truth.setdefault("ticket_rate", {})
    plan = []
    for acc_id, oid in world.account_orgs.items():
        acc = world.sf["Account"][acc_id]
        rates[oid] = _RATE[acc["Segment__c"]] * rate_scale * rng.uniform(0.6, 1.4)
        plan.append((oid, world.trajectories[acc_id], rates[oid]))
    for day in range(today - days, today + 1):
        batch: list[TicketRow] = []
        for oid, traj, rate in plan:
            if traj.start_day <= day:
                batch.extend(tickets_for_day(world, rng, oid, traj, rate, day, now))
        append_sorted(world, batch)
