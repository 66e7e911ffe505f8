"""The synthetic customer base: determinism, linkage mix and churn that leaves leading signals."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from statistics import mean

import pytest

from sandbox.generate import build_world
from sandbox.tickets import DELETED
from sandbox.usage import daily_row
from sandbox.world import World
from tests.sandbox.conftest import NOW


@pytest.fixture(scope="module")
def world() -> World:
    return build_world(400, seed=21, now=NOW)


def _fingerprint(w: World) -> tuple[object, ...]:
    t = w.tickets
    ws = w.workspaces[0]
    return (
        [(a["Id"], a["Name"], a["ARR__c"], a["SystemModstamp"]) for a in w.accounts],
        list(t.created),
        list(t.status),
        list(t.csat),
        sorted(w.orgs),
        daily_row(w, ws, NOW.date().toordinal() - 3, NOW),
    )


def test_same_seed_same_world_other_seed_other_world() -> None:
    a, b, c = (build_world(30, seed=s, now=NOW) for s in (4, 4, 5))
    assert _fingerprint(a) == _fingerprint(b)
    assert _fingerprint(a) != _fingerprint(c)


def test_ids_are_valid_and_unique(world: World) -> None:
    for obj, prefix in (
        ("Account", "001"),
        ("Contact", "003"),
        ("Opportunity", "006"),
        ("User", "005"),
    ):
        ids = list(world.sf[obj])
        assert all(re.fullmatch(rf"{prefix}[0-9A-Za-z]{{15}}", i) for i in ids), obj
        assert len({i.lower() for i in ids}) == len(ids), "unique even case-insensitively"
    created = list(world.tickets.created)
    assert created == sorted(created), "ticket ids grow with creation time"


def test_org_linkage_mix(world: World) -> None:
    links = Counter(world.truth["org_link"].values())
    total = sum(links.values())
    assert links["external_id"] / total > 0.7
    assert links["domain"] > 0 and links["name"] > 0 and links["ambiguous"] > 0
    for oid, link in world.truth["org_link"].items():
        org, acc = world.orgs[oid], world.sf["Account"][world.truth["org_account"][oid]]
        if link == "name":
            assert org["external_id"] is None and not org["domain_names"]
            assert re.sub(r"\W", "", org["name"].lower()).startswith(
                re.sub(r"\W", "", acc["_bare"].lower())
            )
        if link == "domain":
            assert org["external_id"] is None and org["domain_names"] == [acc["Website"][12:]]
    for oid, link in world.truth["org_link"].items():
        if link == "ambiguous":
            org = world.orgs[oid]
            matches = [
                a
                for a in world.accounts
                if a["Website"][12:] in org["domain_names"] or a["Name"] == org["name"]
            ]
            assert len(matches) >= 2, "an ambiguous org really matches several accounts"
    loose = [p for p in range(len(world.tickets)) if world.tickets.org[p] == 0]
    assert 0 < len(loose) < 0.05 * len(world.tickets), "a few tickets come from no organization"
    assert all(world.zd_users[world.tickets.requester[p]]["organization_id"] is None for p in loose)
    unlinked_ws = [w for w in world.workspaces if w.salesforce_account_id is None]
    assert unlinked_ws and all(w.domain for w in unlinked_ws)


def test_churn_dates_leave_history_before_them(world: World) -> None:
    today = NOW.date()
    churned = world.truth["churned"]
    assert len(churned) >= 0.08 * len(world.accounts)
    recent = [d for d in churned.values() if (today - d).days <= 60]
    assert len(recent) >= 0.4 * len(churned), "most churn has 120 days of usage before it"
    for acc_id, day in churned.items():
        lost = [
            o
            for o in world.opportunities
            if o["AccountId"] == acc_id
            and o["StageName"] == "Closed Lost"
            and o["Type"] == "Renewal"
        ]
        assert [o["CloseDate"] for o in lost] == [day]
    upcoming = [a for a in world.accounts if world.trajectories[a["Id"]].kind == "declining"]
    assert upcoming and all(a["Renewal_Date__c"] > today for a in upcoming)
    will_churn = world.truth["will_churn"]
    assert will_churn and set(will_churn) <= {a["Id"] for a in upcoming}
    assert all(world.sf["Account"][i]["Renewal_Date__c"] == d for i, d in will_churn.items())


def _window(world: World, acc_id: str, end: int, days: int) -> tuple[float, int, int, int]:
    """(mean active users, tickets, bad ratings, urgent/high tickets) in [end-days, end)."""
    spaces = [w for w in world.workspaces if w.account_id == acc_id]
    active = [daily_row(world, w, d, NOW) for w in spaces for d in range(end - days, end)]
    users = mean(r["active_users"] for r in active if r) if any(active) else 0.0
    oid = world.account_orgs.get(acc_id)
    t = world.tickets
    lo, hi = (end - days - 719163) * 86400, (end - 719163) * 86400
    pos = [
        p
        for p in range(len(t))
        if t.org[p] == oid and lo <= t.created[p] < hi and t.status[p] != DELETED
    ]
    return users, len(pos), sum(t.csat[p] == 3 for p in pos), sum(t.priority[p] >= 3 for p in pos)


def test_churned_accounts_show_leading_signals(world: World) -> None:
    today = NOW.date().toordinal()
    late, early, champion_lead = [], [], []
    for acc_id, day in world.truth["churned"].items():
        churn = day.toordinal()
        if today - churn > 60 or acc_id not in world.account_orgs:
            continue
        late.append(_window(world, acc_id, churn, 30))
        early.append(_window(world, acc_id, churn - 90, 30))
        lost = world.truth.get("champion_lost", {}).get(acc_id)
        if lost:
            champion_lead.append(churn - lost.toordinal())
    assert len(late) >= 10
    assert mean(x[0] for x in late) < 0.7 * mean(x[0] for x in early), "usage declines"
    assert sum(x[1] for x in late) > 1.3 * sum(x[1] for x in early), "tickets spike"
    assert sum(x[2] for x in late) > sum(x[2] for x in early), "CSAT turns bad"
    assert sum(x[3] for x in late) > 1.5 * sum(x[3] for x in early), "more urgent tickets"
    assert champion_lead and all(15 <= d <= 100 for d in champion_lead), "champion leaves first"


def test_healthy_accounts_stay_steady(world: World) -> None:
    today = NOW.date().toordinal()
    healthy = [a for a, t in world.trajectories.items() if t.kind == "healthy"][:40]
    recent = [_window(world, a, today - 1, 30)[0] for a in healthy]
    older = [_window(world, a, today - 91, 30)[0] for a in healthy]
    assert abs(mean(recent) - mean(older)) < 0.1 * mean(older)


def test_today_is_partial_and_future_is_empty(world: World) -> None:
    ws = next(w for w in world.workspaces if world.trajectories[w.account_id].kind == "healthy")
    today = NOW.date().toordinal()
    full = daily_row(world, ws, today - 7, NOW)
    part = daily_row(world, ws, today, NOW)
    assert full and part and part["logins"] < full["logins"]
    assert daily_row(world, ws, today + 1, NOW) is None


def test_generation_does_not_depend_on_wall_clock() -> None:
    w = build_world(10, seed=1, now=dt.datetime(2024, 2, 29, 9, tzinfo=dt.UTC))
    assert max(w.tickets.updated) < int(dt.datetime(2024, 2, 29, 9, tzinfo=dt.UTC).timestamp())


def test_nothing_is_stamped_in_the_future(world: World) -> None:
    now = NOW
    epoch = int(now.timestamp())
    for obj, records in world.sf.items():
        for r in records.values():
            assert r["CreatedDate"] <= r["SystemModstamp"] <= now, (obj, r["Id"])
    assert all(o["created_at"] <= o["updated_at"] < epoch for o in world.orgs.values())
    assert all(u["created_at"] <= u["updated_at"] < epoch for u in world.zd_users.values())
    assert all(w.created_at <= w.updated_at < epoch for w in world.workspaces)
    assert max(world.tickets.updated) <= epoch - 300, "time-based exports stay 5 min behind"
