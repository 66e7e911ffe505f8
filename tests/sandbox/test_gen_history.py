"""The sandbox's older contract history: multi-year, late, co-termed, contractions, family moves."""

from __future__ import annotations

import datetime as dt

import pytest

from reporting.retention_arr import Deal, account_history
from reporting.retention_config import Renewals
from sandbox.gen_fate import PAST
from sandbox.generate import build_world
from sandbox.world import World
from tests.sandbox.conftest import NOW


@pytest.fixture(scope="module")
def world() -> World:
    return build_world(400, seed=21, now=NOW)


def test_history_has_every_kind_of_contract_event(world: World) -> None:
    h = world.truth["history"]
    assert min(h["multi_year"], h["late"], h["co_termed"], h["contraction"]) > 0, h
    opps = list(world.sf["Opportunity"].values())
    two_year = [o for o in opps if o.get("Term_Months__c") == 24.0]
    assert len(two_year) == h["multi_year"] and all("2-year" in o["Name"] for o in two_year)
    co_termed = [o for o in opps if "co-termed" in o["Name"]]
    for o in co_termed:  # the add-on renews on the base contract's renewal date
        assert any(b["AccountId"] == o["AccountId"] and b["CloseDate"] == o["CloseDate"]
                   and b["Id"] != o["Id"] and b["Type"] == "Renewal" for b in opps)  # fmt: skip


def test_history_changes_nothing_the_fate_decided(world: World) -> None:
    """Everything it books or moves is older than the simulated decisions, except a family
    move, which is dated on the child's (fate-decided) lost renewal."""
    cutoff = NOW.date() - dt.timedelta(days=PAST)
    moved = world.truth.get("moved_to_parent", {})
    for o in world.sf["Opportunity"].values():
        if "Seats moved from" in o["Name"]:
            assert o["CloseDate"] in moved.values()
        elif "2-year" in o["Name"] or "co-termed" in o["Name"] or o["Type"] == "Downsell":
            assert o["CloseDate"] < cutoff, o
    for acc_id, lost in world.truth["churned"].items():  # churn is still the fate's
        last = max(
            (o for o in world.sf["Opportunity"].values()
             if o["AccountId"] == acc_id and o["Type"] == "Renewal" and o["IsClosed"]),
            key=lambda o: o["CloseDate"],
        )  # fmt: skip
        assert (last["CloseDate"], last["IsWon"]) == (lost, False)


def test_every_old_renewal_is_on_the_contract_calendar(world: World) -> None:
    """Replayed by the retention reader, no account's history before the simulated window
    lapses: backfilled renewals fill every year, late ones close inside the grace window."""
    cutoff = NOW.date() - dt.timedelta(days=PAST)
    by_account: dict[str, list[Deal]] = {}
    for o in world.sf["Opportunity"].values():
        if o["IsClosed"] and not o["IsDeleted"]:
            term = int(o["Term_Months__c"]) if o.get("Term_Months__c") else None
            by_account.setdefault(o["AccountId"], []).append(
                Deal(0, o["Type"], o["Amount"], o["CloseDate"], o["IsWon"], term)
            )
    outcomes: dict[str, int] = {}
    for deals in by_account.values():
        _, due = account_history(0, deals, Renewals(), cutoff)
        for r in due:
            outcomes[r.outcome] = outcomes.get(r.outcome, 0) + 1
    assert outcomes.get("lapsed", 0) == 0 and outcomes.get("lost", 0) == 0, outcomes
    assert outcomes["late"] > 0 and outcomes["on_time"] > 4 * outcomes["late"]  # about 12% late
