"""Planted situations hold whatever the hour the world was built at, and read as real ones
over the simulated Zendesk API."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest

from sandbox import Sandbox
from sandbox.credentials import ZD_API_TOKEN, ZD_EMAIL
from sandbox.formats import parse_datetime
from sandbox.gen_surveys import VOCABULARY
from sandbox.generate import build_world
from sandbox.scenarios import TOP_TIERS, plant_sla_breach, plant_theme_outbreak

AUTH = (f"{ZD_EMAIL}/token", ZD_API_TOKEN)
START = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)


@pytest.mark.parametrize("hours", range(0, 24 * 9, 7))
def test_a_small_world_gets_its_sla_breach_at_any_hour(hours: int) -> None:
    world = build_world(80, 1, START + dt.timedelta(hours=hours))
    ticket_id = plant_sla_breach(world)
    pos = ticket_id - 1
    t = world.tickets
    planted = world.truth["planted"][-1]
    acc = world.sf["Account"][planted["account"]]
    assert planted["ticket_id"] == ticket_id and acc["Tier__c"] in TOP_TIERS
    assert world.orgs[t.org[pos]]["external_id"] == acc["Id"]
    assert world.clock.epoch() - t.created[pos] >= 96 * 3600
    later = [p for p in range(pos + 1, len(t)) if t.created[p] < t.created[pos]]
    assert later == [], "ticket ids still grow with creation time"


def test_the_planted_ticket_reads_as_an_urgent_open_incident_past_its_sla() -> None:
    with Sandbox(accounts=80, seed=1) as sb:
        ticket_id = plant_sla_breach(sb.world)
        with httpx.Client(base_url=sb.base_url, auth=AUTH) as zd:
            ticket = zd.get(f"/api/v2/tickets/{ticket_id}.json").json()["ticket"]
            metric = zd.get(f"/api/v2/tickets/{ticket_id}/metrics.json").json()["ticket_metric"]
            org = zd.get(f"/api/v2/organizations/{ticket['organization_id']}.json").json()
    assert (ticket["status"], ticket["priority"], ticket["type"]) == ("open", "urgent", "incident")
    opened = parse_datetime(ticket["created_at"])
    assert dt.datetime.now(dt.UTC) - opened > dt.timedelta(hours=96)
    assert metric["reply_time_in_minutes"]["calendar"] > 24 * 60
    assert metric["solved_at"] is None
    assert org["organization"]["external_id"] == sb.world.truth["planted"][0]["account"]


def test_a_world_too_small_for_it_says_so() -> None:
    world = build_world(2, 3, START)
    for acc in world.sf["Account"].values():
        acc["Tier__c"] = "Tier 3"
    with pytest.raises(LookupError, match="top-tier"):
        plant_sla_breach(world)


def test_a_theme_outbreak_reaches_every_live_customer_in_id_and_time_order() -> None:
    world = build_world(40, 5, START)
    before = len(world.surveys)
    added = plant_theme_outbreak(world, "performance", per_account=2, days=14)
    live = {
        ws.id
        for ws in world.workspaces
        if world.trajectories[ws.account_id].active(world.clock.today().toordinal())
        and not world.sf["Account"][ws.account_id].get("IsDeleted")
    }
    new = world.surveys[before:]
    assert added == len(new) == 2 * len(live) > 0
    assert {r["workspace_id"] for r in new} == live
    assert all(r["kind"] == "nps" and r["score"] <= 6 for r in new), "detractors only"
    said = {r["comment"][0].lower() + r["comment"][1:-1] for r in new}
    assert said <= set(VOCABULARY["performance"])
    now = world.clock.epoch()
    assert all(now - 14 * 86400 <= r["responded_at"] < now for r in new)
    ids = [r["id"] for r in world.surveys]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    assert [r["responded_at"] for r in new] == sorted(r["responded_at"] for r in new)


def test_an_outbreak_of_an_unknown_theme_names_the_known_ones() -> None:
    with pytest.raises(LookupError, match="performance"):
        plant_theme_outbreak(build_world(2, 3, START), "weather")
