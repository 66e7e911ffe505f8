"""Changing a fraction of the world (`/_sandbox/change`), counting changes (`/_sandbox/changed`),
and the usage API's change cursor (`updated_since` / `meta.updated_until`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import httpx
import pytest

from sandbox import Sandbox
from sandbox import credentials as cred
from sandbox.changes import change_fraction
from sandbox.tickets import CLOSED, DELETED
from sandbox.usage import changed_keys, has_row, row_updated_at
from tests.sandbox.conftest import NOW

USAGE_AUTH = {"Authorization": f"Bearer {cred.USAGE_BEARER_TOKEN}"}


@pytest.fixture
def box() -> Iterator[Sandbox]:
    with Sandbox(accounts=40, seed=3, now=NOW) as sb:
        yield sb


def _changed(sb: Sandbox, since: float) -> dict[str, int]:
    with httpx.Client(base_url=sb.base_url) as client:
        return dict(client.get("/_sandbox/changed", params={"since": since}).json()["changed"])


def test_change_touches_the_fraction_of_each_kind_and_changed_counts_them(box: Sandbox) -> None:
    since = box.world.clock.now().timestamp()
    assert not any(_changed(box, since).values()), "a fresh world changes nothing by itself"
    box.tick(5)
    with httpx.Client(base_url=box.base_url) as client:
        got = client.post("/_sandbox/change", params={"fraction": 0.1, "seed": 2}).json()["changed"]
    w = box.world
    live = {o: sum(not r["IsDeleted"] for r in w.sf[o].values()) for o in ("Account", "Contact")}
    assert got["salesforce.Account"] == round(0.1 * live["Account"]) > 0
    assert got["salesforce.Contact"] == round(0.1 * live["Contact"]) > 0
    t = w.tickets
    replyable = sum(s not in (CLOSED, DELETED) for s in t.status)  # closed tickets are read-only
    assert got["zendesk.tickets"] == min(round(0.1 * len(t)), replyable) > 0
    assert got["usage.daily_usage"] > 0 and got["zendesk.organizations"] > 0
    counted = _changed(box, since)
    for kind in ("salesforce.Account", "salesforce.Opportunity", "salesforce.Contact"):
        assert counted[kind] == got[kind]
    assert counted["zendesk.tickets"] == got["zendesk.tickets"]
    assert counted["zendesk.organizations"] == got["zendesk.organizations"]
    assert counted["usage.daily_usage"] == got["usage.daily_usage"]
    assert counted["usage.workspaces"] == 0


def test_change_is_deterministic_by_seed() -> None:
    def touched(seed: int) -> list[str]:
        sb = Sandbox(accounts=30, seed=3, now=NOW)
        change_fraction(sb.world, 0.1, seed)
        mark = NOW.replace(microsecond=0)
        return sorted(a["Id"] for a in sb.world.accounts if a["SystemModstamp"] >= mark)

    assert touched(1) == touched(1) != touched(2)


def _daily(
    client: httpx.Client, **params: object
) -> tuple[list[dict[str, object]], dict[str, object]]:
    rows: list[dict[str, object]] = []
    while True:
        body = client.get("/usage/v1/daily", params={"limit": 7, **params}).json()
        rows += body["data"]
        if not body["meta"]["has_more"]:
            return rows, body["meta"]
        params = {**params, "cursor": body["meta"]["next_cursor"]}


def test_updated_since_lists_only_what_changed_even_when_rows_change_mid_listing(
    box: Sandbox,
) -> None:
    with httpx.Client(base_url=box.base_url, headers=USAGE_AUTH) as client:
        full, meta = _daily(client, start_date="2025-05-20")
        assert all("updated_at" in r for r in full) and meta["updated_until"]
        mark = meta["updated_until"]
        nothing, again = _daily(client, updated_since=mark)
        assert nothing == [] and again["updated_until"] >= mark
        box.tick(5)
        revised = change_fraction(box.world, 0.02, 9)["usage.daily_usage"]
        box.tick(2)
        body = client.get("/usage/v1/daily", params={"updated_since": mark, "limit": 3}).json()
        first = body["data"]
        # the first row served is revised again before the next page: nothing may be skipped
        ws = next(w for w in box.world.workspaces if w.id == first[0]["workspace_id"])
        day = dt.date.fromisoformat(str(first[0]["date"])).toordinal()
        box.world.usage_revisions[(ws.id, day)] = (box.world.clock.epoch() + 10, 1)
        rest, _ = _daily(client, updated_since=mark, cursor=body["meta"]["next_cursor"])
    keys = {(r["workspace_id"], r["date"]) for r in first + rest}
    assert len(first + rest) == revised == len(keys), "every revised row once, none skipped"
    assert all(str(r["updated_at"]) > mark for r in first + rest)


def test_updated_since_on_workspaces_and_bad_values(box: Sandbox) -> None:
    with httpx.Client(base_url=box.base_url, headers=USAGE_AUTH) as client:
        body = client.get("/usage/v1/workspaces", params={"limit": 1000}).json()
        assert len(body["data"]) == len(box.world.workspaces)
        since = body["meta"]["updated_until"]
        changed = client.get("/usage/v1/workspaces", params={"updated_since": since}).json()
        assert changed["data"] == [] and changed["meta"]["has_more"] is False
        bad = client.get("/usage/v1/daily", params={"updated_since": "yesterday"})
        assert bad.status_code == 400 and "updated_since" in bad.text
        assert client.get("/usage/v1/daily").status_code == 400, "start_date still required alone"


def test_changed_keys_match_every_rows_own_updated_at(box: Sandbox) -> None:
    """The day-at-a-time listing of changes equals judging each row's `updated_at` on its own,
    with revisions before, inside and after the window and with bounded days."""
    w = box.world
    start = w.clock.epoch()
    for k in range(3):
        change_fraction(w, 0.01, k)
        w.clock.jump(0.3)
    ws = w.workspaces[0]
    w.usage_revisions[(ws.id, NOW.date().toordinal() - 1)] = (w.clock.epoch() + 99, 1)  # after
    now, until = w.clock.now(), w.clock.epoch() - 1
    today = now.date().toordinal()
    born = min(w.trajectories[space.account_id].start_day for space in w.workspaces)
    for since in (start - 10**7, start - 3900, start + 100, start + 30000):
        for days in (None, (today - 5, today), (today - 40, today - 2)):
            lo, hi = days or (0, today)
            expected = [
                (d, i)
                for d in range(max(lo, born), hi + 1)
                for i, space in enumerate(w.workspaces)
                if has_row(w, space, d, today) and since < row_updated_at(w, space, d, now) <= until
            ]
            assert changed_keys(w, since, until, now, days) == expected
