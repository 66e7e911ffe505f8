"""The usage API's survey endpoint: wire shape, cursor pages, and the change cursor."""

from __future__ import annotations

import datetime as dt

import httpx

from connectors.surveys import SCALES
from sandbox import Sandbox
from sandbox import credentials as cred
from tests.sandbox.conftest import NOW

AUTH = {"Authorization": f"Bearer {cred.USAGE_BEARER_TOKEN}"}


def listing(client: httpx.Client, **params: object) -> tuple[list[dict], dict]:
    rows, cursor, meta = [], None, {}
    while True:
        body = client.get(
            "/usage/v1/surveys", params={**params, **({"cursor": cursor} if cursor else {})}
        ).json()
        rows.extend(body["data"])
        meta = body["meta"]
        if not meta["has_more"]:
            return rows, meta
        cursor = meta["next_cursor"]


def test_surveys_page_in_id_order_with_the_documented_fields(sb: Sandbox) -> None:
    with httpx.Client(base_url=sb.base_url, headers=AUTH) as client:
        rows, meta = listing(client, limit=40)
        assert (
            client.get("/usage/v1/surveys", headers={"Authorization": "Bearer no"}).status_code
            == 401
        )
        assert client.get("/usage/v1/surveys", params={"cursor": "%%%"}).status_code == 400
    assert len(rows) == len(sb.world.surveys) > 40
    assert [r["id"] for r in rows] == sorted(r["id"] for r in rows)
    spaces = {w.id for w in sb.world.workspaces}
    for r in rows:
        assert set(r) >= {"id", "kind", "score", "comment", "workspace_id", "respondent_email",
                          "responded_at", "updated_at"}  # fmt: skip
        low, high = SCALES[r["kind"]]
        assert low <= r["score"] <= high and r["workspace_id"] in spaces
        assert dt.datetime.fromisoformat(
            r["responded_at"].replace("Z", "+00:00")
        ) <= NOW + dt.timedelta(hours=1)
    assert {r["kind"] for r in rows} == {"nps", "ces"}
    assert sum(r["comment"] is not None for r in rows) > len(rows) / 4
    assert meta["updated_until"]


def test_updated_since_lists_only_what_changed_after_the_watermark(sb: Sandbox) -> None:
    with httpx.Client(base_url=sb.base_url, headers=AUTH) as client:
        everything, meta = listing(client, limit=1000)
        cut = everything[len(everything) // 2]["updated_at"]
        later, _ = listing(client, updated_since=cut, limit=7)
        none, _ = listing(client, updated_since=meta["updated_until"])
    assert later and all(r["updated_at"] > cut for r in later)
    assert [r["id"] for r in later] == [r["id"] for r in everything if r["updated_at"] > cut]
    assert none == []


def test_recent_deterioration_is_recorded_for_audits(sb: Sandbox) -> None:
    voice = sb.world.truth["voice"]
    assert voice["deteriorating"] == "performance" and voice["accounts"]
