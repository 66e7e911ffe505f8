"""Issue 18, Zendesk side: plain `requests`, as a third-party client written for the real API.

start_time = now is accepted by the time-based exports (20 probes), a created ticket's audit
has the real shape, ticket audits and comments are listed, `score=unoffered` filters, and an
organization injected without `updated_at` is exported instead of crashing the export.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from sandbox import Sandbox
from sandbox import credentials as cred
from sandbox.tickets import DELETED
from tests.sandbox.conftest import NOW

UA = "third-party-zendesk-client/1.0"


@pytest.fixture
def zd() -> requests.Session:
    session = requests.Session()
    session.auth = (f"{cred.ZD_EMAIL}/token", cred.ZD_API_TOKEN)
    session.headers["User-Agent"] = UA
    return session


@pytest.fixture
def box() -> Iterator[Sandbox]:
    with Sandbox(accounts=8, seed=3, now=NOW) as sb:
        yield sb


def test_start_time_now_is_accepted_on_a_real_time_sandbox(zd: requests.Session) -> None:
    with Sandbox(accounts=3, seed=2) as sb:  # now=None: the clock follows real time
        refused = []
        for _ in range(20):
            now = int(time.time())
            resp = zd.get(
                f"{sb.base_url}/api/v2/incremental/organizations.json",
                params={"start_time": now},
                timeout=10,
            )
            if resp.status_code != 200:
                refused.append((now, resp.status_code, resp.text))
            wall = time.time()  # read first: read after, a thread switch between the two
            assert sb.world.clock.now().timestamp() >= wall - 0.001  # made it look behind
            time.sleep(0.05)
        assert refused == []
        future = zd.get(
            f"{sb.base_url}/api/v2/incremental/organizations.json",
            params={"start_time": int(time.time()) + 3600},
            timeout=10,
        )
        assert future.status_code == 422  # a start_time really in the future is still refused


def _create(box: Sandbox, zd: requests.Session, **extra: Any) -> dict[str, Any]:
    org = next(iter(box.world.orgs))
    ticket = {
        "subject": "Exports fail",
        "comment": {"body": "Our nightly export fails since Monday."},
        "priority": "high",
        "tags": ["export", "from_client"],
        "organization_id": org,
        **extra,
    }
    resp = zd.post(f"{box.base_url}/api/v2/tickets.json", json={"ticket": ticket}, timeout=10)
    assert resp.status_code == 201, resp.text
    body: dict[str, Any] = resp.json()
    return body


def test_ticket_create_returns_a_real_audit(box: Sandbox, zd: requests.Session) -> None:
    body = _create(box, zd)
    audit, ticket = body["audit"], body["ticket"]
    assert audit["ticket_id"] == ticket["id"]
    assert audit["metadata"]["system"]["client"] == UA
    assert {"ip_address", "location"} <= set(audit["metadata"]["system"])
    assert audit["metadata"]["custom"] == {}
    assert audit["via"] == {"channel": "api", "source": {"from": {}, "to": {}, "rel": None}}
    comment, *creates = audit["events"]
    assert comment["type"] == "Comment" and comment["public"] is True
    assert comment["body"] == "Our nightly export fails since Monday."
    assert comment["audit_id"] == audit["id"]
    assert {e["type"] for e in creates} == {"Create"}
    values = {e["field_name"]: e["value"] for e in creates}
    assert values["subject"] == "Exports fail" and values["priority"] == "high"
    assert values["status"] == "new" and values["tags"] == ["export", "from_client"]
    assert values["organization_id"] == str(ticket["organization_id"])
    assert values["requester_id"] == str(ticket["requester_id"])
    ids = [e["id"] for e in audit["events"]]
    assert len(set(ids)) == len(ids)


def test_audits_and_comments_are_listed(box: Sandbox, zd: requests.Session) -> None:
    base = box.base_url
    created = _create(box, zd)
    tid = created["ticket"]["id"]
    update = zd.put(
        f"{base}/api/v2/tickets/{tid}.json",
        json={"ticket": {"status": "pending", "comment": {"body": "Any news?"}}},
        timeout=10,
    ).json()["audit"]
    assert [e["type"] for e in update["events"]] == ["Comment", "Change"]
    change = update["events"][1]
    assert (change["field_name"], change["value"], change["previous_value"]) == (
        "status",
        "pending",
        "new",
    )
    zd.put(f"{base}/api/v2/tickets/{tid}/tags.json", json={"tags": ["vip"]}, timeout=10)
    listed = zd.get(f"{base}/api/v2/tickets/{tid}/audits.json", timeout=10).json()
    assert listed["count"] == 3
    assert [a["id"] for a in listed["audits"]][:2] == [created["audit"]["id"], update["id"]]
    tags = listed["audits"][2]["events"][0]
    assert tags["field_name"] == "tags" and tags["value"][-1] == "vip"
    first = zd.get(f"{base}/api/v2/tickets/{tid}/audits.json?page[size]=1", timeout=10).json()
    assert first["meta"]["has_more"] and len(first["audits"]) == 1
    second = zd.get(first["links"]["next"], timeout=10).json()
    assert second["audits"][0]["id"] == update["id"]
    shown = zd.get(f"{base}/api/v2/tickets/{tid}/audits/{update['id']}.json", timeout=10)
    assert shown.json()["audit"] == update
    comments = zd.get(f"{base}/api/v2/tickets/{tid}/comments.json", timeout=10).json()
    assert [c["body"] for c in comments["comments"]] == [
        "Our nightly export fails since Monday.",
        "Any news?",
    ]
    assert [c["audit_id"] for c in comments["comments"]] == [created["audit"]["id"], update["id"]]
    newest = zd.get(f"{base}/api/v2/tickets/{tid}/comments.json?sort_order=desc", timeout=10)
    assert newest.json()["comments"][0]["body"] == "Any news?"


def test_a_generated_ticket_has_its_creation_audit(box: Sandbox, zd: requests.Session) -> None:
    t = box.world.tickets
    pos = next(p for p in range(len(t)) if t.status[p] != DELETED)
    resp = zd.get(f"{box.base_url}/api/v2/tickets/{pos + 1}/audits.json", timeout=10)
    assert resp.status_code == 200, resp.text
    (audit,) = resp.json()["audits"]
    assert audit["events"][0]["type"] == "Comment"
    assert {"field_name": "status", "value": "new"}.items() <= next(
        e for e in audit["events"] if e.get("field_name") == "status"
    ).items()
    missing = zd.get(f"{box.base_url}/api/v2/tickets/{len(t) + 99}/audits.json", timeout=10)
    assert missing.status_code == 404 and missing.json()["error"] == "RecordNotFound"


def test_satisfaction_ratings_score_filters(box: Sandbox, zd: requests.Session) -> None:
    t = box.world.tickets

    def scores(score: str) -> list[str]:
        url = f"{box.base_url}/api/v2/satisfaction_ratings.json?score={score}&page[size]=100"
        out: list[str] = []
        while url:
            page = zd.get(url, timeout=10).json()
            out += [r["score"] for r in page["satisfaction_ratings"]]
            url = page["links"]["next"]
        return out

    unoffered = scores("unoffered")
    expected = sum(
        1 for p in range(len(t)) if t.csat[p] == 0 and t.solved[p] and t.status[p] != DELETED
    )
    assert expected > 0 and len(unoffered) == expected
    assert set(unoffered) == {"unoffered"}
    assert "unoffered" not in scores("")  # the unfiltered listing: every rating request issued
    assert set(scores("received_with_comment")) == {"good", "bad"}
    assert scores("bad_without_comment") == []
    bad = zd.get(f"{box.base_url}/api/v2/satisfaction_ratings.json?score=great", timeout=10)
    assert bad.status_code == 400


def test_org_injected_without_updated_at_is_exported(box: Sandbox, zd: requests.Session) -> None:
    oid = max(box.world.orgs) + 1
    box.world.orgs[oid] = dict(next(iter(box.world.orgs.values())), id=oid, updated_at=None)
    box.tick(120)
    resp = zd.get(f"{box.base_url}/api/v2/incremental/organizations.json", params={"start_time": 0})
    assert resp.status_code == 200, resp.text
    served = [o for o in resp.json()["organizations"] if o["id"] == oid]
    assert served and served[0]["updated_at"] is None
