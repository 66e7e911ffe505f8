"""Situations a test or a demo can count on, planted into a generated world.

A generated world on the real clock changes with the hour and the day: each ticket's status is
its story aged to "now", so an urgent ticket that was past its SLA at 13:00 may be solved by
15:00, and a small world can hold no engineering-worthy incident at all for part of a day; its
feedback incident (sandbox/gen_surveys.py) lifts a theme clearly over a 1,000-account book but
not on every day of an 80-account one. What must exist whatever the moment is planted here,
keeping the simulated APIs' order (ticket ids grow with creation time as in Zendesk, survey
ids with their answer time).
"""

from __future__ import annotations

import random
from typing import Any

from sandbox.gen_surveys import DETERIORATING, VOCABULARY, survey_id
from sandbox.tickets import DELETED, OPEN, PRIORITIES, TAG_SETS, TYPES
from sandbox.world import World

TOP_TIERS = ("Strategic", "Tier 1")
_OUTAGE = TAG_SETS.index(("outage", "escalated"))
_URGENT, _INCIDENT = PRIORITIES.index("urgent"), TYPES.index("incident")
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
        newest_by_org = _newest_old_enough(world, latest)
        for acc in world.sf["Account"].values():
            oid = world.account_orgs.get(acc["Id"])
            if oid is None or oid not in newest_by_org or not _live_top_tier(world, acc):
                continue
            pos = newest_by_org[oid]
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


def plant_theme_outbreak(
    world: World, theme: str = DETERIORATING, *, per_account: int = 2, days: int = 14
) -> int:
    """Every live customer with a workspace answers `per_account` detractor NPS surveys about
    `theme` within the last `days` days (a product problem the whole base feels). Returns the
    number of responses added."""
    if theme not in VOCABULARY:
        raise LookupError(f"no survey vocabulary for theme {theme!r}; one of {sorted(VOCABULARY)}")
    rng = random.Random(f"{world.seed}:outbreak:{theme}")
    with world.lock:
        now = world.clock.epoch()
        today = world.clock.today().toordinal()
        by_account = {ws.account_id: ws for ws in world.workspaces}
        emails: dict[str, list[str]] = {}
        for c in world.sf["Contact"].values():
            emails.setdefault(c["AccountId"], []).append(c["Email"])
        rows: list[tuple[int, dict[str, Any]]] = []
        for acc in world.sf["Account"].values():
            ws, traj = by_account.get(acc["Id"]), world.trajectories.get(acc["Id"])
            if ws is None or acc.get("IsDeleted") or traj is None or not traj.active(today):
                continue
            who = emails.get(acc["Id"]) or [f"admin@{ws.domain}"]
            for _ in range(per_account):
                at = now - rng.randrange(3600, days * 86400)
                text = rng.choice(VOCABULARY[theme])
                row: dict[str, Any] = {
                    "kind": "nps",
                    "score": rng.randrange(0, 4),
                    "comment": text[0].upper() + text[1:] + ".",
                    "workspace_id": ws.id,
                    "respondent_email": rng.choice(who),
                    "responded_at": at,
                    "updated_at": at,
                }
                rows.append((at, row))
        rows.sort(key=lambda r: r[0])
        first = len(world.surveys)
        for n, (_, row) in enumerate(rows):
            world.surveys.append({"id": survey_id(first + n + 1), **row})
        world.truth.setdefault("planted", []).append(
            {"kind": "theme_outbreak", "theme": theme, "responses": len(rows)}
        )
        return len(rows)
