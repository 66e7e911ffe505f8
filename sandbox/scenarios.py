"""Situations a test or a demo can count on, planted into a generated world.

A generated world on the real clock changes with the hour: each ticket's status is its story
aged to "now", so an urgent ticket that was past its SLA at 13:00 may be solved by 15:00, and
a small world can hold no engineering-worthy incident at all for part of a day. What must
exist whatever the hour is planted here, by rewriting records the generator already made
(ids keep growing with creation time, as in Zendesk).
"""

from __future__ import annotations

from typing import Any

from sandbox.tickets import DELETED, OPEN, TAG_SETS
from sandbox.world import World

TOP_TIERS = ("Strategic", "Tier 1")
_OUTAGE = TAG_SETS.index(("outage", "escalated"))
_URGENT, _INCIDENT = 4, 2
_NEVER_MIN = 60 * 24 * 365  # a resolution time no test will reach


def plant_sla_breach(world: World, *, min_hours_open: float = 96.0) -> int:
    """Make one ticket of a live top-tier customer an urgent incident still open, unanswered
    for longer than any first-reply SLA, opened at least `min_hours_open` hours ago.

    The customer is the first (in generation order) whose organization is linked by crm id
    and who filed a ticket old enough; that ticket is rewritten in place. Returns its id.
    Raises LookupError when the world holds no such customer (too small a world)."""
    with world.lock:
        now = world.clock.epoch()
        latest = now - int(min_hours_open * 3600)
        t = world.tickets
        first_by_org = _newest_old_enough(world, latest)
        for acc in world.sf["Account"].values():
            oid = world.account_orgs.get(acc["Id"])
            if oid is None or oid not in first_by_org or not _live_top_tier(world, acc):
                continue
            pos = first_by_org[oid]
            t.status[pos], t.priority[pos], t.type[pos] = OPEN, _URGENT, _INCIDENT
            t.tags[pos], t.solved[pos], t.csat[pos], t.reopens[pos] = _OUTAGE, 0, 0, 0
            age_min = (now - t.created[pos]) // 60
            t.reply_min[pos] = age_min - 60  # first reply an hour ago: long past any SLA
            t.resolution_min[pos] = _NEVER_MIN
            t.tag_override.pop(pos, None)
            t.touch(pos, now - 60)
            world.truth.setdefault("planted", []).append(
                {"kind": "sla_breach", "account": acc["Id"], "ticket_id": pos + 1}
            )
            return pos + 1
    raise LookupError("no live top-tier customer with a linked organization and an old ticket")


def _newest_old_enough(world: World, latest: int) -> dict[int, int]:
    """Per organization, the position of its newest ticket created at or before `latest`."""
    t = world.tickets
    found: dict[int, int] = {}
    for pos in range(len(t)):
        if t.created[pos] <= latest and t.org[pos] and t.status[pos] != DELETED:
            found[t.org[pos]] = pos
    return found


def _live_top_tier(world: World, acc: dict[str, Any]) -> bool:
    oid = world.account_orgs[acc["Id"]]
    org = world.orgs.get(oid)
    traj = world.trajectories.get(acc["Id"])
    return (
        acc.get("Tier__c") in TOP_TIERS
        and not acc.get("IsDeleted")
        and org is not None
        and org.get("deleted_at") is None
        and org.get("external_id") == acc["Id"]
        and traj is not None
        and traj.churn_day is None
    )
