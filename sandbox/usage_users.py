"""Usage API users: who has access to each workspace, with role, status and last login.

`GET /usage/v1/users` lists every workspace's users (offset cursor, `limit`), or with
`updated_since` those whose record changed after it (a login changes `updated_at`), with the
same `meta.updated_until` watermark as the other usage listings.

Derived from the world, not stored: a workspace's users are its account's crm contacts (same
email, so a contact who left the company still has access until someone removes it) plus a
few people the crm does not know. Stories the demo shows (`story_workspace`): its first user the
crm does not know is an admin who has not logged in for 150 days (an inactive admin), and a
contact marked as gone from the company (`add_access_stories`) keeps an active user.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from typing import Any

from sandbox.app import RouteTable
from sandbox.formats import mix, to_epoch, zd_datetime
from sandbox.httpd import Request, Response, json_response
from sandbox.state import State
from sandbox.usage_api import _cursor, _limit, _meta, _offset, _since
from sandbox.world import Workspace, World

ROUTES = RouteTable()
EXTRA_USERS = 3
INACTIVE_ADMIN_DAYS = 150


def _contacts_by_account(world: World) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for c in world.sf["Contact"].values():
        if not c.get("IsDeleted") and c.get("AccountId"):
            out[c["AccountId"]].append(c)
    for contacts in out.values():
        contacts.sort(key=lambda c: c["Id"])
    return out


def workspace_users(
    world: World, ws: Workspace, contacts: list[dict[str, Any]], now: dt.datetime, first: bool
) -> list[dict[str, Any]]:
    """One workspace's users, in a stable order."""
    people = [
        (c["Email"], c["Name"], c.get("Role__c") == "Admin", "left" in str(c.get("Title")))
        for c in contacts
        if c.get("Email")
    ]
    people += [
        (f"user{k}@{ws.domain}", f"User {k}", False, False) for k in range(1, EXTRA_USERS + 1)
    ]
    created = ws.created_at
    today = dt.datetime.combine(now.date(), dt.time(), dt.UTC)
    users = []
    for k, (email, name, is_admin, left) in enumerate(people):
        bits = mix(world.seed, ws.number, k, 0x55E5)
        u1, u2, u3 = ((bits >> s & 0xFFFF) / 65536.0 for s in (0, 16, 32))
        role = "admin" if is_admin or k == 0 else ("viewer" if u1 < 0.2 else "member")
        status = "deactivated" if u2 < 0.05 else "active"
        days = int(u3 * 20 / max(ws.activity, 0.2)) if u3 < 0.9 else 95 + int(u3 * 200) % 120
        if first and k == len(people) - EXTRA_USERS:  # the story: an admin (not a crm contact)
            role, status, days = "admin", "active", INACTIVE_ADMIN_DAYS  # unseen for months
        if first and left:  # the story: gone from the company, still let in (and logging in)
            status, days = "active", min(days, 10)
        # logins of earlier days only: what a listing returns then moves at midnight, never
        # under a run that is reading it
        login = today - dt.timedelta(days=max(days, 1)) + dt.timedelta(hours=8 + k % 9)
        last_login = max(to_epoch(login), created)
        users.append(
            {
                "id": f"{ws.id}-u{k + 1}",
                "workspace_id": ws.id,
                "email": email,
                "name": name,
                "role": role,
                "status": status,
                "last_login_at": zd_datetime(last_login),
                "created_at": zd_datetime(created),
                "updated_at": zd_datetime(last_login),
                "_updated": last_login,
            }
        )
    return users


def all_users(world: World, now: dt.datetime) -> list[dict[str, Any]]:
    contacts = _contacts_by_account(world)
    spaces = sorted(world.workspaces, key=lambda w: w.number)
    oldest = story_workspace(world, contacts)
    out: list[dict[str, Any]] = []
    for ws in spaces:
        mine = contacts.get(ws.salesforce_account_id or "", [])
        out += workspace_users(world, ws, mine, now, first=ws is oldest)
    return out


@ROUTES.add("GET", r"/usage/v1/users")
def users(state: State, req: Request, m: re.Match[str]) -> Response:
    """Users in workspace order; with `updated_since`, those changed after it (up to the
    listing's watermark)."""
    limit, (position, until), since = _limit(req), _cursor(state, req), _since(req)
    rows = listed_users(state, until, since)
    offset = _offset(position if position.startswith("o:") else "")
    page, more = rows[offset : offset + limit], offset + limit < len(rows)
    data = [{k: v for k, v in r.items() if not k.startswith("_")} for r in page]
    return json_response(200, {"data": data, "meta": _meta(more, f"o:{offset + limit}", until)})


def listed_users(state: State, until: int, since: int | None) -> list[dict[str, Any]]:
    """The users a listing with this watermark shows, cached while the world's contacts,
    workspaces and day are the same: each page of a listing reuses its first page's rows
    (rebuilding every user of the book per page made a 50,000-account listing quadratic)."""
    world = state.world
    with world.lock:
        now = world.clock.now()
        contacts = world.sf["Contact"].values()
        version = hash(
            (
                now.date(),
                len(world.sf["Contact"]),
                max((str(c.get("SystemModstamp") or "") for c in contacts), default=""),
                len(world.workspaces),
            )
        )
        cached = state.derived.get("usage_users")
        if cached is None or cached[0] != version:
            cached = (version, (all_users(world, now), {}))
            state.derived["usage_users"] = cached
    everyone: list[dict[str, Any]] = cached[1][0]
    listings: dict[tuple[int, int | None], list[dict[str, Any]]] = cached[1][1]
    key = (until, since)
    if key not in listings:
        listings.clear()  # one listing at a time is read; keep the newest
        listings[key] = [
            r
            for r in everyone
            if r["_updated"] <= until and (since is None or r["_updated"] > since)
        ]
    rows: list[dict[str, Any]] = listings[key]
    return rows


def _plain_users(contacts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [c for c in contacts if c.get("Role__c") == "User" and c.get("Email")]


def story_workspace(
    world: World, contacts: dict[str, list[dict[str, Any]]] | None = None
) -> Workspace | None:
    """The oldest workspace linked to a crm account that has a plain user contact: the one
    whose admin is inactive and whose contact left (the demo's access-review stories)."""
    contacts = _contacts_by_account(world) if contacts is None else contacts
    linked = [
        w for w in world.workspaces if _plain_users(contacts.get(w.salesforce_account_id or "", []))
    ]
    return min(linked, key=lambda w: (w.created_at, w.number), default=None)


def add_access_stories(world: World) -> None:
    """A user whose contact left: the story workspace's account's last plain user contact is
    marked as having left the company in the crm (20 days ago); the app still lets them in."""
    contacts = _contacts_by_account(world)
    ws = story_workspace(world, contacts)
    if ws is None:
        return
    contact = _plain_users(contacts[ws.salesforce_account_id or ""])[-1]
    when = world.clock.now().replace(microsecond=0) - dt.timedelta(days=20)
    contact.update(Title="(left company)", LastModifiedDate=when, SystemModstamp=when)
    world.truth["access_story"] = {"left_contact": contact["Id"], "workspace": ws.id}
