"""A second helpdesk instance over the same customers: what moves, what is shared, which ids
collide; and `pulsehub sandbox serve --second-helpdesk-port` serving it, in its own process."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys

import httpx

from sandbox.generate import build_world
from sandbox.second_helpdesk import BOTH, MOVED, split_helpdesk
from tests.sandbox.test_cli import _read_until_ready


def test_split_moves_some_customers_shares_others_and_ids_collide() -> None:
    world = build_world(60, 5)
    tickets_before = len(world.tickets)
    orgs_before = dict(world.account_orgs)
    second = split_helpdesk(world)
    truth = world.truth["second_helpdesk"]
    assert truth[BOTH] and truth[MOVED]
    assert len(world.tickets) + len(second.tickets) == tickets_before  # every ticket kept once
    for acc in truth[MOVED]:  # only the second instance has them now
        assert acc not in world.account_orgs and acc in second.account_orgs
        assert orgs_before[acc] not in world.orgs
        assert world.sf["Account"][acc]["Zendesk_Org_Id__c"] in (None, "")
    for acc in truth[BOTH]:
        assert acc in world.account_orgs and acc in second.account_orgs
    # the same organization id is another customer in each instance
    clashes = set(world.orgs) & set(second.orgs)
    assert clashes
    assert any(world.truth["org_account"][o] != second.truth["org_account"][o] for o in clashes)
    assert all(o["external_id"] is None and o["domain_names"] for o in second.orgs.values())
    assert second.tickets.position(1) == 0 == world.tickets.position(1)  # both have a ticket 1
    t = second.tickets
    assert all(t.org[p] in second.orgs for p in range(len(t)))


def test_serve_with_a_second_helpdesk_prints_its_source() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "pulsehub.cli", "sandbox", "serve", "--port", "0",
         "--second-helpdesk-port", "0", "--accounts", "30", "--print-env"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        lines = _read_until_ready(proc)
        exports = dict(
            shlex.split(line.removeprefix("export "))[0].split("=", 1)
            for line in lines
            if line.startswith("export ")
        )
        (source,) = json.loads(exports["PULSEHUB_SOURCES"])
        assert (source["name"], source["connector"]) == ("acquired", "zendesk")
        second = source["options"]["loopback_url"]
        assert second != exports["PULSEHUB_ZENDESK__LOOPBACK_URL"]
        first = httpx.get(f"{exports['PULSEHUB_ZENDESK__LOOPBACK_URL']}/_sandbox/counts").json()
        other = httpx.get(f"{second}/_sandbox/counts").json()
        assert first["records"]["salesforce.Account"] == 30
        assert other["records"]["salesforce.Account"] == 0
        assert other["records"]["zendesk.organizations"] > 0
        assert other["records"]["zendesk.tickets"] > 0
    finally:
        proc.terminate()
        proc.wait(10)
