"""The sandbox's usage users listing: pages cover every user once, `updated_since` lists only
users who logged in since, and the access-review stories are in it."""

from __future__ import annotations

import datetime as dt

import httpx

from sandbox import Sandbox
from sandbox import credentials as cred


def _all(client: httpx.Client, **params) -> tuple[list[dict], str]:
    rows, cursor, until = [], None, ""
    while True:
        query = {"limit": 7, **params, **({"cursor": cursor} if cursor else {})}
        body = client.get("/usage/v1/users", params=query).raise_for_status().json()
        rows += body["data"]
        until = until or body["meta"]["updated_until"]
        cursor = body["meta"]["next_cursor"]
        if not cursor:
            return rows, until


def test_users_page_through_change_and_carry_the_stories():
    # a fixed morning clock: a day later the users seen "yesterday" log in 08:00-16:00, after
    # the first listing's watermark (on the real clock, after 16:00 none would)
    with Sandbox(accounts=30, seed=5, now=dt.datetime(2026, 11, 2, 6, tzinfo=dt.UTC)) as sb:
        auth = {"Authorization": f"Bearer {cred.USAGE_BEARER_TOKEN}"}
        with httpx.Client(base_url=sb.base_url, headers=auth) as client:
            users, until = _all(client)
            assert len({u["id"] for u in users}) == len(users) > 30
            assert {u["workspace_id"] for u in users} == {w.id for w in sb.world.workspaces}
            assert all(u["last_login_at"] and u["role"] for u in users)
            assert _all(client, updated_since=until)[0] == []  # nothing changed since
            sb.advance(1)  # a day goes by: people log in again
            changed, _ = _all(client, updated_since=until)
            assert 0 < len(changed) < len(users)
            assert all(u["updated_at"] > until for u in changed)
            bad = client.get("/usage/v1/users", params={"updated_since": "yesterday"})
            assert bad.status_code == 400
        story = sb.world.truth["access_story"]
        mine = [u for u in users if u["workspace_id"] == story["workspace"]]
        left = sb.world.sf["Contact"][story["left_contact"]]
        assert "left company" in left["Title"]
        assert [u["status"] for u in mine if u["email"] == left["Email"]] == ["active"]
        now = sb.world.clock.now()
        idle = [
            (now - dt.datetime.fromisoformat(u["last_login_at"].replace("Z", "+00:00"))).days
            for u in mine
            if u["role"] == "admin" and u["status"] == "active"
        ]
        assert max(idle) >= 150  # the inactive admin


def test_a_contact_edit_shows_in_the_next_listing_though_pages_reuse_the_first_ones_rows():
    with Sandbox(accounts=20, seed=5) as sb:
        auth = {"Authorization": f"Bearer {cred.USAGE_BEARER_TOKEN}"}
        with httpx.Client(base_url=sb.base_url, headers=auth) as client:
            before, _ = _all(client)
            contact = next(
                c for c in sb.world.sf["Contact"].values() if any(
                    u["email"] == c.get("Email") for u in before
                )
            )  # fmt: skip
            old = contact["Email"]
            contact["Email"] = "renamed@example.com"
            contact["SystemModstamp"] = "2999-01-01T00:00:00.000+0000"  # as the crm stamps an edit
            after, _ = _all(client)
    emails = {u["email"] for u in after}
    assert "renamed@example.com" in emails and old not in emails
    assert len(after) == len(before)
