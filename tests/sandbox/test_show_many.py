"""The sandbox's Zendesk show_many reads and its log's mark on lost responses."""

from __future__ import annotations

import httpx
import pytest

from sandbox import Sandbox
from sandbox.credentials import ZD_API_TOKEN, ZD_EMAIL
from sandbox.tickets import DELETED

AUTH = (f"{ZD_EMAIL}/token", ZD_API_TOKEN)


@pytest.fixture(scope="module")
def sb():
    with Sandbox(accounts=6, seed=3) as box:
        yield box


def test_show_many_keeps_the_order_asked_and_leaves_out_unknown_ids(sb: Sandbox) -> None:
    a, b = sorted(sb.world.orgs)[:2]
    t = sb.world.tickets
    live = [p + 1 for p in range(len(t)) if t.status[p] != DELETED][:2]
    with httpx.Client(base_url=sb.base_url, auth=AUTH) as client:
        orgs = client.get("/api/v2/organizations/show_many.json", params={"ids": f"{b},999999,{a}"})
        tickets = client.get(
            "/api/v2/tickets/show_many.json", params={"ids": f"{live[1]},{live[0]}"}
        )
        too_many = client.get(
            "/api/v2/tickets/show_many.json", params={"ids": ",".join(map(str, range(1, 102)))}
        )
    assert [o["id"] for o in orgs.json()["organizations"]] == [b, a]
    assert "organization_fields" in orgs.json()["organizations"][0]
    body = tickets.json()["tickets"]
    assert [x["id"] for x in body] == [live[1], live[0]] and all("tags" in x for x in body)
    assert too_many.status_code == 400 and too_many.json()["error"] == "TooManyValues"


def test_the_log_tells_a_lost_response_from_a_reset(sb: Sandbox) -> None:
    org = sorted(sb.world.orgs)[0]
    sb.clear_log()
    sb.faults.add(r"/organizations/update_many\.json", "lost_response", method="PUT")
    sb.faults.add(r"/organizations/update_many\.json", "reset", method="PUT")
    body = {"organizations": [{"id": org, "organization_fields": {"health_status": "red"}}]}
    with httpx.Client(base_url=sb.base_url, auth=AUTH) as client:
        for _ in range(2):
            with pytest.raises(httpx.TransportError):
                client.put("/api/v2/organizations/update_many.json", json=body)
    assert [(r["status"], r["lost_response"]) for r in sb.requests] == [
        ("reset", True),
        ("reset", False),
    ]
    assert len([w for w in sb.writes if w["kind"] == "org_fields"]) == 1, "only the first ran"
