"""The Freshdesk simulator's wire format over real loopback HTTP: routing by Host, auth,
companies and tickets from the same customer base as Zendesk, pagination and its 300-page
limit, stats, ratings, per-minute credits with 429 + Retry-After, Freshdesk's error shapes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import httpx
import pytest

from connectors.freshdesk_transport import LoopbackTransport
from sandbox import Sandbox
from sandbox import credentials as cred
from sandbox.limits import Limits
from sandbox.tickets import DELETED

NOW = dt.datetime(2025, 6, 2, 15, 30, tzinfo=dt.UTC)
SINCE = "2000-01-01T00:00:00Z"


def client(box: Sandbox, key: str = cred.FD_API_KEY) -> httpx.Client:
    return httpx.Client(
        base_url=f"https://{cred.FD_DOMAIN}.freshdesk.com/api/v2/",
        auth=(key, "X"),
        transport=LoopbackTransport(box.base_url),
    )


@pytest.fixture
def box() -> Iterator[Sandbox]:
    with Sandbox(accounts=12, seed=5, now=NOW) as sb:
        yield sb


def test_host_decides_the_system_and_the_api_key_is_the_user_name(box) -> None:
    assert client(box).get("companies").status_code == 200
    refused = client(box, key="wrong").get("companies")
    assert refused.status_code == 401
    assert refused.json() == {
        "code": "invalid_credentials",
        "message": "You have to be logged in to perform this action.",
    }
    # the same path without the Freshdesk host is Zendesk's, with Zendesk's auth
    zd = httpx.get(f"{box.base_url}/api/v2/tickets", auth=(cred.FD_API_KEY, "X"))
    assert zd.status_code == 401 and zd.json() == {"error": "Couldn't authenticate you"}
    assert {r["system"] for r in box.requests} == {"freshdesk", "zendesk"}


def test_companies_are_the_zendesk_organizations_with_the_crm_link(box) -> None:
    fd = client(box)
    first = fd.get("companies", params={"per_page": 5})
    assert first.status_code == 200 and len(first.json()) == 5
    assert "page=2" in first.links["next"]["url"]
    rows = []
    page = 1
    while True:
        r = fd.get("companies", params={"per_page": 5, "page": page})
        rows += r.json()
        if "next" not in r.links:
            break
        page += 1
    live = {o["id"]: o for o in box.world.orgs.values() if o.get("deleted_at") is None}
    assert {c["id"] for c in rows} == set(live)
    for c in rows:
        org = live[c["id"]]
        assert c["name"] == org["name"] and c["domains"] == org["domain_names"]
        assert c["custom_fields"]["crm_account_id"] == org["external_id"]
        assert set(c["custom_fields"]) >= {"health_score", "health_status", "renewal_risk"}
        assert c["updated_at"].endswith("Z")


def test_tickets_by_update_with_stats_and_the_300th_page_limit(box) -> None:
    fd = client(box)
    params = {"updated_since": SINCE, "order_by": "updated_at", "order_type": "asc"}
    r = fd.get("tickets", params={**params, "per_page": 100, "include": "stats"})
    assert r.status_code == 200
    assert r.headers["X-Ratelimit-Used-CurrentRequest"] == "2"  # an include costs a credit
    tickets = r.json()
    stamps = [t["updated_at"] for t in tickets]
    assert stamps == sorted(stamps)
    t = box.world.tickets
    live = [p for p in range(len(t)) if t.status[p] != DELETED]
    assert len(live) > 100 and "next" in r.links
    one = tickets[0]
    assert one["status"] in {2, 3, 4, 5, 7} and one["priority"] in {1, 2, 3, 4}
    assert set(one["stats"]) >= {"first_responded_at", "resolved_at", "closed_at"}
    assert one["company_id"] == (t.org[one["id"] - 1] or None)
    later = fd.get("tickets", params={**params, "updated_since": stamps[-1]}).json()
    assert all(x["updated_at"] >= stamps[-1] for x in later)
    # without updated_since only tickets created in the last 30 days are listed
    recent = fd.get("tickets", params={"per_page": 100}).json()
    cutoff = (NOW - dt.timedelta(days=31)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert all(x["created_at"] >= cutoff for x in recent)
    beyond = fd.get("tickets", params={**params, "page": 301})
    assert beyond.status_code == 400
    assert beyond.json()["description"] == "Validation failed"
    assert beyond.json()["errors"][0]["field"] == "page"
    assert fd.get("tickets", params={"per_page": 101}).json()["errors"][0]["field"] == "per_page"


def test_satisfaction_ratings_and_changes_over_time(box) -> None:
    fd = client(box)
    ratings = fd.get(
        "surveys/satisfaction_ratings", params={"created_since": SINCE, "per_page": 100}
    ).json()
    assert ratings
    t = box.world.tickets
    for rating in ratings:
        value = rating["ratings"]["default_question"]
        assert value == (103 if t.csat[rating["ticket_id"] - 1] == 2 else -103)
    stamp = box.world.clock.now().strftime("%Y-%m-%dT%H:%M:%SZ")
    box.change(0.2, seed=3)
    changed = fd.get("tickets", params={"updated_since": stamp, "per_page": 100}).json()
    assert changed, "replies move tickets' updated_at: an incremental pull sees them"


def test_writes_and_errors_in_freshdesk_shapes(box) -> None:
    fd = client(box)
    org_id = next(iter(box.world.orgs))
    bad = fd.put(f"companies/{org_id}", json={"custom_fields": {"health_score": "high"}})
    assert bad.status_code == 400
    assert bad.json()["description"] == "Validation failed"
    assert bad.json()["errors"][0]["field"] == "health_score"
    assert bad.json()["errors"][0]["code"] == "datatype_mismatch"
    ok = fd.put(f"companies/{org_id}", json={"custom_fields": {"health_score": 71}})
    assert ok.json()["custom_fields"]["health_score"] == 71
    assert box.world.orgs[org_id]["organization_fields"]["health_score"] == 71

    missing = fd.post("tickets", json={"subject": "x"})
    assert missing.status_code == 400
    assert {e["field"] for e in missing.json()["errors"]} == {
        "requester_id", "description", "status", "priority",
    }  # fmt: skip
    body = {"subject": "Escalation", "description": "d", "email": "a@b.example",
            "status": 2, "priority": 4, "tags": ["ph-1"], "company_id": org_id}  # fmt: skip
    outsider = fd.post("tickets", json=body)  # a company the requester is not in
    assert outsider.status_code == 400
    assert outsider.json()["errors"][0]["field"] == "company_id"
    member = box.world.org_requesters[org_id][0]
    made = fd.post("tickets", json={**body, "email": None, "requester_id": member})
    assert made.status_code == 201
    tid = made.json()["id"]
    assert made.json()["priority"] == 4 and made.json()["responder_id"] is None
    tagged = fd.put(f"tickets/{tid}", json={"tags": ["x", "y"]})
    assert tagged.json()["tags"] == ["x", "y"]  # tags replace the list
    found = fd.get("search/tickets", params={"query": "\"tag:'x'\""}).json()
    assert [r["id"] for r in found["results"]] == [tid] and found["total"] == 1
    note = fd.post(f"tickets/{tid}/notes", json={"body": "private words", "private": True})
    assert note.status_code == 201 and note.json()["private"] is True
    convo = fd.get(f"tickets/{tid}/conversations").json()
    assert [c["body_text"] for c in convo] == ["private words"]
    assert fd.put(f"tickets/{tid}", json={"priority": 9}).json()["errors"][0]["field"] == "priority"
    assert fd.get("tickets/999999999").status_code == 404
    kinds = [w["kind"] for w in box.writes if w["system"] == "freshdesk"]
    assert kinds == ["company_fields", "ticket_created", "ticket_tags_set", "ticket_note"]


def test_per_minute_credits_then_429_with_retry_after() -> None:
    with Sandbox(accounts=3, seed=2, now=NOW, limits=Limits(fd_per_minute=3)) as sb:
        fd = client(sb)
        first = fd.get("companies")
        assert first.headers["X-Ratelimit-Total"] == "3"
        assert first.headers["X-Ratelimit-Remaining"] == "2"
        fd.get("companies", params={"include": ""})
        refused = fd.get("tickets", params={"include": "stats"})  # costs 2, 1 left
        assert refused.status_code == 429
        assert int(refused.headers["Retry-After"]) >= 1
        assert refused.headers["X-Ratelimit-Remaining"] == "1"
