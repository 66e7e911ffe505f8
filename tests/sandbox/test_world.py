"""The synthetic customer base: determinism, linkage mix, and churn as a noisy outcome of drivers."""

from __future__ import annotations

import datetime as dt
import random
import re
from collections import Counter
from statistics import mean

import pytest

from sandbox.gen_fate import Fate, draw_fate
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
    recent = [d for d in churned.values() if (today - d).days <= 180]
    assert len(recent) >= 0.3 * len(churned), "renewals are decided over 420 days: 180 in view"
    for acc_id, day in churned.items():
        lost = [
            o
            for o in world.opportunities
            if o["AccountId"] == acc_id
            and o["StageName"] == "Closed Lost"
            and o["Type"] == "Renewal"
        ]
        assert [o["CloseDate"] for o in lost] == [day]
        assert world.sf["Account"][acc_id]["Type"] == "Former Customer"
    will_churn = world.truth["will_churn"]
    assert will_churn and all(d > today for d in will_churn.values())
    assert all(world.sf["Account"][i]["Renewal_Date__c"] <= d for i, d in will_churn.items())
    assert any(world.sf["Account"][i]["Renewal_Date__c"] == d for i, d in will_churn.items())


@pytest.fixture(scope="module")
def fates() -> list[Fate]:
    rng = random.Random("fates")
    return [draw_fate(rng, NOW.date().toordinal()) for _ in range(4000)]


def _churn_rate(group: list[Fate]) -> float:
    return sum(f.trajectory.churn_day is not None for f in group) / len(group)


def test_churn_is_a_noisy_outcome_of_several_drivers(fates: list[Fate]) -> None:
    everyone = _churn_rate(fates)
    drivers = {
        "budget cut": [f for f in fates if f.budget_cut is not None],
        "acquired": [f for f in fates if f.acquired is not None],
        "champion left": [f for f in fates if f.champion_left is not None],
        "high friction": [f for f in fates if f.trajectory.friction > 0.45],
        "usage decline": [f for f in fates if f.trajectory.decline_start is not None],
    }
    for name, group in drivers.items():
        assert len(group) > 100, name
        assert everyone < _churn_rate(group) < 0.9, f"{name} raises churn but does not decide it"
    unrecorded = [f for f in drivers["champion left"] if not f.champion_recorded]
    assert 0.25 < len(unrecorded) / len(drivers["champion left"]) < 0.6, "partly visible"


def test_the_world_has_hard_cases(fates: list[Fate]) -> None:
    lost = [f.trajectory for f in fates if f.trajectory.churn_day is not None]
    kept = [f.trajectory for f in fates if f.trajectory.churn_day is None]
    declined_renewed = [t for t in kept if t.decline_start is not None and not t.recover_days]
    silent = [t for t in lost if t.decline_start is None and t.wind_down is None]
    recovered = [t for t in fates if t.trajectory.recover_days]
    assert len(declined_renewed) > 0.1 * len(kept) / 5, "declining accounts that renew anyway"
    assert len(silent) > 0.1 * len(lost), "healthy-looking accounts that churn"
    assert len(recovered) > 50, "declines that recover"
    kinds = Counter(f.trajectory.kind for f in fates)
    assert set(kinds) == {
        "healthy", "declining", "recovering", "onboarding", "churned", "historic_churn"
    }  # fmt: skip


def test_passing_dips_move_usage_but_not_renewals(fates: list[Fate]) -> None:
    """A re-org dip lowers health and recovers; it is drawn after the renewals are decided,
    so dipping accounts churn no more than the rest (usage change alone cannot be trusted)."""
    dipped = [f for f in fates if f.trajectory.dip_start is not None]
    clean = [f for f in fates if f.trajectory.dip_start is None]
    assert 0.35 < len(dipped) / len(fates) < 0.55
    assert abs(_churn_rate(dipped) - _churn_rate(clean)) < 0.05
    t = next(
        f.trajectory for f in dipped if f.trajectory.churn_day is None
        and f.trajectory.decline_start is None and f.trajectory.dip_depth > 0.3
        and (f.trajectory.dip_start or 0) > f.trajectory.start_day + 90
    )  # fmt: skip
    assert t.dip_start is not None
    before, bottom = t.dip_start - 1, t.dip_start + t.dip_days
    after = bottom + t.dip_recover + 1
    assert t.health(bottom) < t.health(before) - 0.2 * t.base
    assert t.health(after) == pytest.approx(t.health(before), abs=0.25 * t.season + 0.07)


def test_a_recorded_champion_departure_shows_in_the_crm(world: World) -> None:
    """Deleted (recycle bin) or demoted, half each; a successor is a new champion contact."""
    today = NOW.date().toordinal()
    contacts: dict[str, list[dict[str, object]]] = {}
    for c in world.sf["Contact"].values():
        contacts.setdefault(str(c["AccountId"]), []).append(c)
    lost = world.truth["champion_lost"]
    deleted = demoted = successors = 0
    for acc_id, day in lost.items():
        mine = contacts[acc_id]
        deleted += any(c["IsDeleted"] and c["Role__c"] == "Champion" for c in mine)
        demoted += any(c["Title"] == "(left company)" and not c["IsDeleted"] for c in mine)
        new = [c for c in mine if c["Is_Champion__c"] and not c["IsDeleted"]]
        successors += any(c["CreatedDate"].date() > day for c in new)  # type: ignore[attr-defined]
        assert all(c["CreatedDate"].date().toordinal() <= today for c in new)  # type: ignore[attr-defined]
    assert len(lost) >= 15 and deleted + demoted == len(lost)
    assert deleted >= 0.25 * len(lost) and demoted >= 0.25 * len(lost)
    assert successors >= 0.2 * len(lost)


def test_every_account_follows_the_season(fates: list[Fate]) -> None:
    year = NOW.year
    live = [f.trajectory for f in fates if f.trajectory.churn_day is None][:500]
    june = dt.date(year, 6, 15).toordinal()
    december = dt.date(year, 12, 15).toordinal()
    assert mean(t.health(december) for t in live) < mean(t.health(june) for t in live) - 0.02


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


def test_churners_decline_on_average_but_not_all_of_them(world: World) -> None:
    today = NOW.date().toordinal()
    late, early = [], []
    for acc_id, day in world.truth["churned"].items():
        churn = day.toordinal()
        if today - churn > 120 or acc_id not in world.account_orgs:
            continue
        late.append(_window(world, acc_id, churn, 30))
        early.append(_window(world, acc_id, churn - 120, 30))
    assert len(late) >= 10
    pairs = [(a[0], b[0]) for a, b in zip(early, late, strict=True) if a[0] > 0]
    fell = sum(b < 0.85 * a for a, b in pairs)
    steady = sum(b >= 0.95 * a for a, b in pairs)
    assert fell >= 0.3 * len(pairs), "usage declines before many losses"
    assert steady >= 1, "some churners leave with their usage intact"


def test_support_friction_shows_in_tickets(world: World) -> None:
    today = NOW.date().toordinal()
    live = [a for a, t in world.trajectories.items() if t.active(today - 90)]
    by_friction = sorted(live, key=lambda a: world.trajectories[a].friction)
    third = len(by_friction) // 3
    t = world.tickets
    org_pos: dict[int, list[int]] = {}
    for p in range(len(t)):
        org_pos.setdefault(t.org[p], []).append(p)

    def support(accounts: list[str]) -> tuple[float, float]:
        pos = [p for a in accounts for p in org_pos.get(world.account_orgs.get(a, -1), [])]
        rated = [p for p in pos if t.csat[p] in (2, 3)]
        return mean(t.resolution_min[p] for p in pos), sum(t.csat[p] == 3 for p in rated) / len(
            rated
        )

    low, high = support(by_friction[:third]), support(by_friction[-third:])
    assert high[0] > 1.3 * low[0], "slower resolutions"
    assert high[1] > 1.5 * low[1], "more bad ratings"


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
