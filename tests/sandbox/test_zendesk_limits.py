"""The Zendesk simulator's limits as clients meet them: 429s with and without Retry-After, the per-minute budget, and idempotency keys and job statuses that expire."""

from __future__ import annotations

import pytest

from sandbox import Sandbox
from tests.sandbox.conftest import zenpy_client


def test_zenpy_waits_out_429_with_retry_after(
    fresh: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    slept: list[float] = []
    monkeypatch.setattr("zenpy.lib.api.sleep", slept.append)
    zd = zenpy_client(fresh, monkeypatch)
    fresh.faults.add(r"^/api/v2/organizations\.json$", 429, times=2)
    assert sorted(o.id for o in zd.organizations()) == sorted(fresh.world.orgs)
    assert slept == [1, 1]
    statuses = [r["status"] for r in fresh.requests if r["path"] == "/api/v2/organizations.json"]
    assert statuses[:3] == [429, 429, 200]


def test_zenpy_raises_on_429_without_retry_after(
    fresh: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    from zenpy.lib.exception import APIException

    zd = zenpy_client(fresh, monkeypatch)
    fresh.faults.add(r"/organizations", "429-no-retry-after")
    with pytest.raises(APIException):
        list(zd.organizations())


def test_per_minute_budget_answers_429_with_headers(fresh: Sandbox) -> None:
    import httpx

    from sandbox import credentials as cred

    fresh.limits.zd_incremental_per_minute = 2
    auth = (f"{cred.ZD_EMAIL}/token", cred.ZD_API_TOKEN)
    with httpx.Client(base_url=fresh.base_url, auth=auth) as client:
        got = [
            client.get("/api/v2/incremental/organizations.json", params={"start_time": 0})
            for _ in range(3)
        ]
        plain = client.get("/api/v2/groups.json")
    assert [r.status_code for r in got] == [200, 200, 429]
    assert got[0].headers["x-rate-limit"] == "2" and got[1].headers["x-rate-limit-remaining"] == "0"
    assert 1 <= int(got[2].headers["retry-after"]) <= 60
    assert plain.status_code == 200 and plain.headers["x-rate-limit"] == "700"


def test_idempotency_keys_and_job_statuses_expire(fresh: Sandbox) -> None:
    import httpx

    from sandbox import credentials as cred

    auth = (f"{cred.ZD_EMAIL}/token", cred.ZD_API_TOKEN)
    body = {"ticket": {"subject": "Escalation", "comment": {"body": "x"}}}
    with httpx.Client(base_url=fresh.base_url, auth=auth) as client:
        first = client.post("/api/v2/tickets.json", json=body, headers={"Idempotency-Key": "k"})
        job = client.put(
            "/api/v2/tickets/update_many.json", json={"tickets": [{"id": 1, "priority": "low"}]}
        ).json()["job_status"]
        fresh.tick(2 * 3600 + 1)
        later = client.post("/api/v2/tickets.json", json=body, headers={"Idempotency-Key": "k"})
        assert later.headers["x-idempotency-lookup"] == "miss"
        assert later.json()["ticket"]["id"] != first.json()["ticket"]["id"]
        assert client.get(job["url"]).json()["job_status"]["status"] == "working"
        fresh.tick(86400)
        assert client.get(job["url"]).status_code == 404
