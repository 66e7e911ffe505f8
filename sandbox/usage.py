"""Product usage: workspaces, and daily aggregates and raw events computed on demand (never stored).

When a row last changed (`row_updated_at`): a past day's row is final when its day closes at
midnight UTC, unless late-arriving events revise it later (`World.usage_revisions`); today's
partial row is refreshed at the top of every hour (its values and its `updated_at` move then).
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from typing import Any

from sandbox.formats import day_start, from_epoch, mix, to_epoch
from sandbox.world import Workspace, World

_SEATS = {"Enterprise": (100, 800), "Mid-Market": (20, 150), "SMB": (3, 25)}
FEATURES = ("dashboards", "reports", "alerts", "api", "automations", "exports", "sso", "comments")


def generate_workspaces(world: World, rng: random.Random) -> None:
    """A workspace for ~85% of accounts; ~70% carry the Salesforce id, the rest only a domain."""
    truth = world.truth.setdefault("workspace_account", {})
    for n, acc in enumerate(world.sf["Account"].values()):
        if rng.random() < 0.15:
            continue
        wid = f"ws_{mix(world.seed, n, 77) & 0xFFFFFFFFFF:010x}"
        traj = world.trajectories[acc["Id"]]
        lo, hi = _SEATS[acc["Segment__c"]]
        created = to_epoch(day_start(dt.date.fromordinal(traj.start_day))) + rng.randrange(86400)
        ws = Workspace(
            id=wid,
            name=acc["_bare"] if rng.random() < 0.5 else acc["Name"],
            domain=acc["Website"][12:],
            salesforce_account_id=acc["Id"] if rng.random() < 0.7 else None,
            account_id=acc["Id"],
            seats=rng.randint(lo, hi),
            activity=rng.uniform(0.65, 1.35),  # teams differ in how many seats they use
            created_at=created,
            updated_at=min(created + rng.randrange(86400 * 30), world.clock.epoch() - 3600),
            number=n,
            habit=rng.uniform(0.6, 1.6),
            breadth=rng.uniform(3.5, 8.0),
        )
        world.workspaces.append(ws)
        truth[wid] = acc["Id"]
        if rng.random() < 0.4:
            acc["Usage_Workspace_Id__c"] = wid
    world.workspaces.sort(key=lambda w: w.id)


def hour_start(now: dt.datetime) -> dt.datetime:
    """The top of the hour: when today's partial rows were last refreshed."""
    return now.replace(minute=0, second=0, microsecond=0)


def row_updated_at(world: World, ws: Workspace, day: int, now: dt.datetime) -> int:
    """Epoch when a row's values last changed: its day's close, the hourly refresh, a revision."""
    stamp = _settled_at(day, now)
    late = world.usage_revisions.get((ws.id, day))
    return stamp if late is None else max(stamp, late[0])


def _settled_at(day: int, now: dt.datetime) -> int:
    """When every row of a day last changed, revisions aside: the day's close, or for today the
    top of the hour."""
    if day < now.date().toordinal():
        return to_epoch(day_start(dt.date.fromordinal(day + 1)))
    return to_epoch(hour_start(now))


def has_row(world: World, ws: Workspace, day: int, today: int) -> bool:
    """Whether a workspace has a row on a day (from its first day to today)."""
    return world.trajectories[ws.account_id].start_day <= day <= today


def changed_keys(
    world: World, since: int, until: int, now: dt.datetime, days: tuple[int, int] | None = None
) -> list[tuple[int, int]]:
    """(day, workspace index) of the rows whose `updated_at` is in (since, until], in that order.

    `days` bounds the day ordinals (inclusive). All rows of a day share its close (or today's
    hourly refresh), so a day is decided once; only revised rows are then judged one by one.
    A page of a listing calls this again, so its cost is the listing's size, not the book's
    whole history.
    """
    spaces = world.workspaces
    today = now.date().toordinal()
    lo, hi = days if days is not None else (0, today)
    hi = min(hi, today)
    starts = [world.trajectories[w.account_id].start_day for w in spaces]

    def whole_day(day: int) -> bool:
        return since < _settled_at(day, now) <= until

    first = max(lo, from_epoch(since).date().toordinal() - 1)  # earlier days closed before since
    listed = [d for d in range(first, hi + 1) if whole_day(d)]
    keys = [(d, i) for d in listed for i, start in enumerate(starts) if start <= d]
    if not world.usage_revisions:
        return keys
    index = {w.id: i for i, w in enumerate(spaces)}
    added, dropped = [], set()
    for (wid, day), (at, _) in world.usage_revisions.items():
        i = index.get(wid)
        if i is None or not lo <= day <= hi or starts[i] > day:
            continue
        settled = _settled_at(day, now)
        if since < max(settled, at) <= until:
            if not since < settled <= until:
                added.append((day, i))
        elif since < settled <= until:
            dropped.add((day, i))
    if dropped:
        keys = [k for k in keys if k not in dropped]
    return sorted(keys + added) if added else keys


def daily_row(world: World, ws: Workspace, day: int, now: dt.datetime) -> dict[str, Any] | None:
    """Aggregates of one workspace on one day (None before it existed); today is partial,
    as of the top of the hour; late events revise past rows (`World.usage_revisions`)."""
    traj = world.trajectories[ws.account_id]
    today = now.date().toordinal()
    if not has_row(world, ws, day, today):
        return None
    h = traj.health(day)
    bits = mix(world.seed, ws.number, day)  # four 16-bit noise draws from one hash
    u1, u2, u3, u4 = ((bits >> shift & 0xFFFF) / 65536.0 for shift in (0, 16, 32, 48))
    weekday = 0.35 if (day - 1) % 7 >= 5 else 1.0  # ordinal 1 is a Monday
    fraction = 1.0
    if day == today:
        fraction = (hour_start(now) - day_start(now.date())).total_seconds() / 86400.0
    active = 0
    if h > 0:
        share = (0.1 + 0.75 * h) * weekday * ws.activity * (0.9 + 0.2 * u1)
        active = min(ws.seats, round(ws.seats * share))
    active = round(active * fraction)
    late = world.usage_revisions.get((ws.id, day))
    extra = 0 if late is None or active == 0 else late[1]  # late events of active users
    return {
        "workspace_id": ws.id,
        "date": dt.date.fromordinal(day).isoformat(),
        "active_users": active,
        "logins": round(active * ws.habit * (1.3 + 1.0 * h) * (0.9 + 0.2 * u2)) + extra,
        "feature_events": round(active * ws.habit * (2 + 6 * h) * (0.9 + 0.2 * u3)) + 2 * extra,
        "features_used": 0 if active == 0 else min(len(FEATURES), 1 + int(ws.breadth * h + 2 * u4)),
        "seats_used": 0 if h <= 0 else min(ws.seats, round(ws.seats * (0.5 + 0.45 * h))),
        "seats_purchased": ws.seats if h > 0 else 0,
    }


def events_for(world: World, ws: Workspace, day: int, now: dt.datetime) -> Iterator[dict[str, Any]]:
    """Raw Mixpanel-style events behind one daily row, generated lazily."""
    row = daily_row(world, ws, day, now)
    if row is None or row["active_users"] == 0:
        return
    start = to_epoch(day_start(dt.date.fromordinal(day)))
    limit = min(86400, int((now - day_start(dt.date.fromordinal(day))).total_seconds()))
    active = row["active_users"]
    used = row["features_used"]
    seed, num = world.seed, ws.number
    for kind, count in (("login", row["logins"]), ("feature_used", row["feature_events"])):
        for k in range(count):
            h = mix(seed, num, day, k, len(kind))
            at = start + h % max(1, limit)
            props: dict[str, Any] = {
                "time": at,
                "distinct_id": f"{ws.id}-u{h % active}",
                "$insert_id": f"{h:016x}",
                "mp_processing_time_ms": (at + 60) * 1000,
                "workspace_id": ws.id,
            }
            if kind == "feature_used":
                props["feature"] = FEATURES[(h >> 20) % used]
            yield {"event": kind, "properties": props}
