"""Fault injection, the /_sandbox/ control API and clock control."""

from __future__ import annotations

import contextlib
import json
from collections import Counter

import httpx
import pytest

from sandbox import Sandbox
from sandbox import credentials as cred
from tests.sandbox.conftest import NOW

ZD_AUTH = (f"{cred.ZD_EMAIL}/token", cred.ZD_API_TOKEN)


def test_reset_timeout_and_malformed_json(fresh: Sandbox) -> None:
    fresh.state.timeout_seconds = 2.0
    fresh.faults.add(r"/groups", "reset")
    fresh.faults.add(r"/groups", "timeout")
    fresh.faults.add(r"/groups", "malformed_json")
    with httpx.Client(base_url=fresh.base_url, auth=ZD_AUTH, timeout=0.5) as client:
        with pytest.raises(httpx.TransportError):
            client.get("/api/v2/groups.json")
        with pytest.raises(httpx.ReadTimeout):
            client.get("/api/v2/groups.json")
        broken = client.get("/api/v2/groups.json")
        assert broken.status_code == 200
        with pytest.raises(json.JSONDecodeError):
            broken.json()
        assert client.get("/api/v2/groups.json").json()["groups"]
    assert [r["status"] for r in fresh.requests] == ["reset", "timeout", 200, 200]


def test_scripted_faults_match_method_and_count(fresh: Sandbox) -> None:
    fresh.faults.add(r"/tags\.json$", 503, times=2, method="PUT")
    with httpx.Client(base_url=fresh.base_url, auth=ZD_AUTH) as client:
        codes = [
            client.put("/api/v2/tickets/1/tags.json", json={"tags": ["x"]}).status_code
            for _ in range(3)
        ]
        assert client.get("/api/v2/tickets/1.json").status_code == 200
    assert codes == [503, 503, 200]
    with pytest.raises(ValueError):
        fresh.faults.add(r"/x", "explode")


def _storm_statuses(seed: int) -> list[int | str]:
    with Sandbox(accounts=5, seed=seed, now=NOW, faults="storm") as box:
        box.state.timeout_seconds = 0.1
        with httpx.Client(base_url=box.base_url, auth=ZD_AUTH, timeout=2) as client:
            for _ in range(120):
                with contextlib.suppress(httpx.TransportError):
                    client.get("/api/v2/groups.json")
        return [r["status"] for r in box.requests]


def test_storm_profile_is_seeded_and_roughly_as_advertised() -> None:
    first, again = _storm_statuses(3), _storm_statuses(3)
    assert first == again
    counts = Counter(first)
    assert 12 <= counts[429] <= 40
    assert 1 <= counts[500] + counts[503] <= 15
    assert counts["reset"] <= 8 and counts[200] >= 60


def test_control_api_over_http(fresh: Sandbox) -> None:
    with (
        httpx.Client(base_url=fresh.base_url) as ctl,
        httpx.Client(base_url=fresh.base_url, auth=ZD_AUTH) as zd,
    ):
        zd.put("/api/v2/tickets/1/tags.json", json={"tags": ["health_red"]})
        assert (
            ctl.get("/_sandbox/requests").json()["requests"][0]["path"]
            == "/api/v2/tickets/1/tags.json"
        )
        assert ctl.get("/_sandbox/writes").json()["writes"][0]["kind"] == "ticket_tags_added"
        counts = ctl.get("/_sandbox/counts").json()
        assert counts["endpoints"] == {
            "PUT /api/v2/tickets/{id}/tags.json": 1,
            "GET /_sandbox/requests": 1,
            "GET /_sandbox/writes": 1,
        }
        assert counts["records"]["salesforce.Account"] == 12
        truth = ctl.get("/_sandbox/truth").json()
        assert set(truth) >= {
            "org_account",
            "org_link",
            "workspace_account",
            "churned",
            "trajectory",
        }
        assert ctl.post("/_sandbox/clear").json() == {"cleared": True}
        assert [(r["system"], r["path"]) for r in fresh.requests] == [
            ("control", "/_sandbox/clear")
        ]
        assert fresh.writes == []
        assert (
            ctl.post(
                "/_sandbox/faults", json={"add": [{"path": "/groups", "action": 429}]}
            ).status_code
            == 200
        )
        limited = zd.get("/api/v2/groups.json")
        assert limited.status_code == 429 and limited.headers["retry-after"] == "1"
        assert ctl.post("/_sandbox/faults", json={"profile": "hurricane"}).status_code == 400
        before = fresh.world.clock.now()
        moved = ctl.post("/_sandbox/advance", params={"seconds": 120}).json()
        assert 120 <= (fresh.world.clock.now() - before).total_seconds() < 130 and moved["now"]


def test_advance_evolves_the_world() -> None:
    with Sandbox(accounts=120, seed=2, now=NOW) as box:
        w = box.world
        due = [
            o
            for o in w.opportunities
            if o["Type"] == "Renewal"
            and not o["IsClosed"]
            and (o["CloseDate"] - NOW.date()).days <= 30
        ]
        assert due
        tickets_before, latest_before = len(w.tickets), max(w.tickets.updated)
        stats = box.advance(days=31)
        assert stats["tickets_created"] == len(w.tickets) - tickets_before > 0
        assert stats["tickets_solved"] > 0 and max(w.tickets.updated) > latest_before
        assert all(o["IsClosed"] for o in due)
        for o in due:
            traj = w.trajectories[o["AccountId"]]
            lost_by_now = (
                traj.churn_day is not None and traj.churn_day <= w.clock.today().toordinal()
            )
            assert o["IsWon"] == (not lost_by_now), o["Id"]
            assert o["SystemModstamp"].date() > NOW.date()
        lost = [o for o in due if not o["IsWon"]]
        won = [o for o in due if o["IsWon"]]
        assert all(w.sf["Account"][o["AccountId"]]["Type"] == "Former Customer" for o in lost)
        assert all(o["AccountId"] in w.truth["churned"] for o in lost)
        assert all(
            w.sf["Account"][o["AccountId"]]["Renewal_Date__c"] > w.clock.today() for o in won
        )
        created = list(w.tickets.created)
        assert created == sorted(created)


def test_advance_moves_lifecycle_stages() -> None:
    with Sandbox(accounts=80, seed=4, now=NOW) as box:
        w = box.world
        before = {a["Id"]: a["Lifecycle_Stage__c"] for a in w.accounts}
        stats = box.advance(days=60)
        after = {a["Id"]: a["Lifecycle_Stage__c"] for a in w.accounts}
        changed = [i for i in before if before[i] != after[i]]
        assert stats["lifecycle_changes"] == len(changed) > 0
        assert all(w.sf["Account"][i]["SystemModstamp"].date() > NOW.date() for i in changed)


def test_record_error_rate_applies_to_the_next_writes_only(fresh: Sandbox) -> None:
    from tests.sandbox.conftest import salesforce

    sf = salesforce(fresh)
    ids = [a["Id"] for a in fresh.world.accounts]
    recs = [{"attributes": {"type": "Account"}, "id": i, "Health_Score__c": 50} for i in ids]
    fresh.faults.record_errors(code="UNABLE_TO_LOCK_ROW", rate=0.5, times=1)
    first = sf.restful("composite/sobjects", method="PATCH", json={"records": recs})
    failed = [r for r in first if not r["success"]]
    assert 0 < len(failed) < len(ids)
    assert {e["statusCode"] for r in failed for e in r["errors"]} == {"UNABLE_TO_LOCK_ROW"}
    second = sf.restful("composite/sobjects", method="PATCH", json={"records": recs})
    assert all(r["success"] for r in second)


def test_flaky_profile_mixes_in_a_few_faults() -> None:
    with (
        Sandbox(accounts=5, seed=8, now=NOW, faults="flaky") as box,
        httpx.Client(base_url=box.base_url, auth=ZD_AUTH, timeout=2) as client,
    ):
        for _ in range(100):
            with contextlib.suppress(httpx.TransportError):
                client.get("/api/v2/groups.json")
        counts = Counter(r["status"] for r in box.requests)
    assert 75 <= counts[200] < 100 and counts[429] + counts[503] + counts["reset"] > 0
