"""The HubSpot simulator's wire shapes over real loopback HTTP."""

from __future__ import annotations

import re

import httpx
import pytest

from sandbox import Sandbox
from sandbox import credentials as cred
from sandbox.hubspot_store import SEARCH_WINDOW


@pytest.fixture(scope="module")
def sb():
    with Sandbox(accounts=30, seed=3) as sandbox:
        sandbox.state.hubspot.limits.search_per_second = 1000  # the rate test sets HubSpot's 5
        yield sandbox


@pytest.fixture
def api(sb):
    headers = {"Authorization": f"Bearer {cred.HS_PRIVATE_APP_TOKEN}"}
    with httpx.Client(base_url=sb.base_url, headers=headers) as client:
        yield client


def _all(api, kind: str, **params) -> list[dict]:
    out, after = [], None
    while True:
        body = api.get(
            f"/crm/v3/objects/{kind}",
            params={"limit": 7, **params, **({"after": after} if after else {})},
        ).json()
        out += body["results"]
        after = body.get("paging", {}).get("next", {}).get("after")
        if not after:
            return out


def test_a_call_without_the_private_app_token_is_a_401_in_hubspots_error_shape(sb) -> None:
    r = httpx.get(f"{sb.base_url}/crm/v3/objects/companies")
    assert r.status_code == 401
    body = r.json()
    assert body["status"] == "error" and body["category"] == "INVALID_AUTHENTICATION"
    assert body["message"] and body["correlationId"]


def test_lists_page_with_after_and_serve_the_same_customer_base_as_strings(sb, api) -> None:
    companies = _all(api, "companies", properties="name,domain,arr,hubspot_owner_id")
    live = [a for a in sb.world.accounts if not a["IsDeleted"]]
    assert len(companies) == len(live) == len({c["id"] for c in companies})
    names = {a["Name"] for a in live}
    assert {c["properties"]["name"] for c in companies} == names
    first = companies[0]["properties"]
    assert isinstance(first["arr"], str) and first["hubspot_owner_id"].isdigit()
    deals = _all(api, "deals", properties="dealname,dealstage,dealtype", associations="companies")
    assert len(deals) == sum(1 for o in sb.world.opportunities if not o["IsDeleted"])
    assert {d["properties"]["dealstage"] for d in deals} >= {"closedwon"}
    assert "renewal" in {d["properties"]["dealtype"] for d in deals}
    linked = deals[0]["associations"]["companies"]["results"][0]
    assert linked["id"] in {c["id"] for c in companies}
    owners = api.get("/crm/v3/owners", params={"limit": 2}).json()
    assert owners["paging"]["next"]["after"] and {"email", "firstName"} <= set(owners["results"][0])


def _search(api, **body) -> httpx.Response:
    return api.post("/crm/v3/objects/companies/search", json=body)


def test_search_filters_sorts_pages_and_refuses_past_its_window(sb, api) -> None:
    assert SEARCH_WINDOW == 10_000 and sb.state.hubspot.search_window == 10_000
    everything = _search(
        api,
        sorts=[{"propertyName": "hs_lastmodifieddate", "direction": "ASCENDING"}],
        properties=["hs_lastmodifieddate"],
        limit=200,
    ).json()
    stamps = [r["properties"]["hs_lastmodifieddate"] for r in everything["results"]]
    assert stamps == sorted(stamps) and everything["total"] == len(stamps)
    middle = stamps[len(stamps) // 2]
    later = _search(
        api,
        filterGroups=[
            {
                "filters": [
                    {"propertyName": "hs_lastmodifieddate", "operator": "GTE", "value": middle}
                ]
            }
        ],
        limit=5,
    ).json()
    assert later["total"] == sum(1 for s in stamps if s >= middle)
    assert later["paging"]["next"]["after"] == "5" and "associations" not in later["results"][0]
    assert _search(api, limit=201).status_code == 400
    past = _search(api, limit=200, after=9_801)
    assert past.status_code == 400
    assert past.json()["category"] == "VALIDATION_ERROR" and "10000" in past.json()["message"]
    two_sorts = [{"propertyName": "name"}, {"propertyName": "createdate"}]
    assert _search(api, sorts=two_sorts).status_code == 400


def test_records_change_over_time_and_a_search_sees_the_changes(sb, api) -> None:
    newest = _search(
        api, sorts=[{"propertyName": "hs_lastmodifieddate", "direction": "DESCENDING"}], limit=1
    ).json()["results"][0]["properties"]["hs_lastmodifieddate"]
    changed = sb.change(0.2, seed=4)
    after = _search(
        api,
        filterGroups=[
            {
                "filters": [
                    {"propertyName": "hs_lastmodifieddate", "operator": "GT", "value": newest}
                ]
            }
        ],
        limit=100,
    ).json()
    assert after["total"] == changed["salesforce.Account"] > 0


def test_batch_update_applies_the_good_inputs_and_names_the_gone_ones_in_a_207(sb, api) -> None:
    ids = [c["id"] for c in _all(api, "companies")[:3]]
    gone = ids[2]
    world_id = sb.state.hubspot.world_id("companies", gone)
    sb.world.sf["Account"][world_id]["IsDeleted"] = True
    try:
        inputs = [{"id": i, "properties": {"pulsehub_health_score": "71"}} for i in ids]
        r = api.post("/crm/v3/objects/companies/batch/update", json={"inputs": inputs})
    finally:
        sb.world.sf["Account"][world_id]["IsDeleted"] = False
    assert r.status_code == 207
    body = r.json()
    assert {x["id"] for x in body["results"]} == set(ids[:2])
    assert body["errors"][0]["category"] == "OBJECT_NOT_FOUND"
    assert body["errors"][0]["context"]["ids"] == [gone]
    read = api.post(
        "/crm/v3/objects/companies/batch/read",
        json={"inputs": [{"id": ids[0]}], "properties": ["pulsehub_health_score"]},
    ).json()
    assert read["results"][0]["properties"]["pulsehub_health_score"] == "71"
    bad = api.post(
        "/crm/v3/objects/companies/batch/update",
        json={"inputs": [{"id": ids[0], "properties": {"not_a_property": "1"}}]},
    )
    assert bad.status_code == 400 and "not_a_property" in bad.json()["message"]


def test_the_ten_second_burst_and_the_search_rate_answer_429_with_their_policy(sb, api) -> None:
    limits = sb.state.hubspot.limits
    now = [1000.0]
    saved = (limits.per_ten_seconds, limits.search_per_second, limits.clock)
    limits.per_ten_seconds, limits.search_per_second, limits.clock = 3, 5, lambda: now[0]
    limits._burst.clear()
    limits._search.clear()
    try:
        statuses = [api.get("/crm/v3/objects/companies").status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
        refused = api.get("/crm/v3/objects/companies")
        assert refused.json()["policyName"] == "TEN_SECONDLY_ROLLING"
        assert refused.json()["category"] == "RATE_LIMITS"
        assert refused.headers["Retry-After"] == "10"
        assert refused.headers["X-HubSpot-RateLimit-Remaining"] == "0"
        searches = [_search(api, limit=1).status_code for _ in range(6)]
        assert searches == [200] * 5 + [429]
        now[0] += 10.0
        ok = api.get("/crm/v3/objects/companies")
        assert ok.status_code == 200 and ok.headers["X-HubSpot-RateLimit-Max"] == "3"
    finally:
        limits.per_ten_seconds, limits.search_per_second, limits.clock = saved
        limits._burst.clear()
        limits._search.clear()


def test_task_batch_create_validates_owner_and_company_per_input(sb, api) -> None:
    company = _all(api, "companies")[0]["id"]
    owner = api.get("/crm/v3/owners").json()["results"][0]["id"]
    assoc = [{"to": {"id": company}, "types": [{"associationCategory": "HUBSPOT_DEFINED",
                                                  "associationTypeId": 192}]}]  # fmt: skip
    good = {"properties": {"hs_task_subject": "Call", "hs_timestamp": "2026-01-01T00:00:00.000Z",
                           "hubspot_owner_id": owner, "pulsehub_task_key": "k1"},
            "associations": assoc}  # fmt: skip
    bad = {"properties": {**good["properties"], "hubspot_owner_id": "1", "pulsehub_task_key": "k2"},
           "associations": assoc}  # fmt: skip
    r = api.post("/crm/v3/objects/tasks/batch/create", json={"inputs": [good, bad]})
    assert r.status_code == 207
    body = r.json()
    assert [t["properties"]["pulsehub_task_key"] for t in body["results"]] == ["k1"]
    assert body["errors"][0]["context"]["pulsehub_task_key"] == ["k2"]
    found = api.post(
        "/crm/v3/objects/tasks/search",
        json={"filterGroups": [{"filters": [{"propertyName": "pulsehub_task_key",
                                              "operator": "IN", "values": ["k1", "k9"]}]}]},
    ).json()  # fmt: skip
    assert found["total"] == 1


def test_print_env_says_how_to_point_a_hubspot_source_at_the_sandbox(capsys) -> None:
    import json
    import shlex
    import threading
    import time

    from sandbox import cli_main

    stop = threading.Event()
    thread = threading.Thread(
        target=cli_main,
        kwargs={"port": 0, "accounts": 3, "seed": 1, "print_env": True, "stop": stop},
    )
    thread.start()
    out = ""
    try:
        for _ in range(200):
            out += capsys.readouterr().out
            if "control API ready" in out:
                break
            time.sleep(0.05)
    finally:
        stop.set()
        thread.join(5)
    line = next(x for x in out.splitlines() if "PULSEHUB_SOURCES=" in x)
    assert line.startswith("# export ")  # a comment: evaluating the block keeps Salesforce
    sources = json.loads(shlex.split(line.split("=", 1)[1])[0])
    assert sources[0]["connector"] == "hubspot"
    assert sources[0]["options"]["token"] == cred.HS_PRIVATE_APP_TOKEN
    served = re.search(r"serving on (http://127\.0\.0\.1:\d+)", out)
    assert served and sources[0]["options"]["base_url"] == served.group(1)
