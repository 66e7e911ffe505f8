"""The HubSpot connector against the simulator over real loopback HTTP: pulls, the search
window, rate limits, partial failures, idempotent tasks, and its configuration errors."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import httpx
import pytest

from connectors.base import SourceConfig, WriteItem
from connectors.errors import AuthError, BudgetExhausted, ConfigError, Fatal, Retriable
from connectors.http import RetryPolicy
from connectors.hubspot import HubSpotConnector
from connectors.hubspot_fields import HubSpotFieldMap
from connectors.hubspot_source import build
from connectors.hubspot_streams import SEARCH_WINDOW, Position
from connectors.write_fields import FieldRule
from sandbox import Sandbox
from sandbox import credentials as cred


@pytest.fixture
def sb():
    with Sandbox(accounts=40, seed=11) as sandbox:
        yield sandbox


def connector(sb, **kwargs) -> HubSpotConnector:
    client = httpx.Client(
        base_url=sb.base_url, headers={"Authorization": f"Bearer {cred.HS_PRIVATE_APP_TOKEN}"}
    )
    kwargs.setdefault("policy", RetryPolicy(sleep=lambda s: None))
    return HubSpotConnector(client, **kwargs)


def records(pages) -> tuple[list, str | None]:
    out, cursor = [], None
    for page in pages:
        assert not page.rejected
        out += page.records
        cursor = page.cursor if page.cursor is not None else cursor
    return out, cursor


def test_the_real_search_window_is_10000() -> None:
    assert SEARCH_WINDOW == 10_000


def test_full_read_then_incremental_reads_only_what_changed(sb) -> None:
    hs = connector(sb)
    companies, cursor = records(hs.pull("companies", None))
    live = [a for a in sb.world.accounts if not a["IsDeleted"]]
    assert len(companies) == len(live) == len({c.id for c in companies})
    first = companies[0]
    assert first.owner_name and first.owner_email and first.arr is not None
    deals, _ = records(hs.pull("deals", None))
    assert all(d.account_id for d in deals)
    renewals = [d for d in deals if d.type == "Renewal" and d.is_closed]
    assert renewals and {d.is_won for d in renewals} == {True, False}
    sb.tick(60)
    changed = sb.change(0.25, seed=2)["salesforce.Account"]
    again, _ = records(hs.pull("companies", cursor))
    # the full read's cursor steps back its overlap: the changed ones plus a few re-reads
    assert changed <= len(again) < len(live)
    newest = max(c.modstamp for c in again)
    assert len([c for c in again if c.modstamp >= newest - dt.timedelta(seconds=1)]) >= 1


def test_each_page_is_a_new_search_so_a_small_window_never_overflows(sb) -> None:
    sb.state.hubspot.search_window = 50
    hs = connector(sb, search_window=50, page_size=20)
    everything, _ = records(hs.pull("deals", Position(0).encode()))
    live = [o for o in sb.world.opportunities if not o["IsDeleted"]]
    assert len(live) > 50
    assert sorted(d.id for d in everything) == sorted(
        sb.state.hubspot.ids["deals"][o["Id"]] for o in live
    )
    searches = [r for r in sb.requests if r["path"].endswith("/deals/search")]
    assert all(r["status"] == 200 for r in searches)
    assert all(int(r["body"]["after"]) + r["body"]["limit"] <= 50 for r in searches)


def test_a_record_edited_mid_pull_is_not_lost(sb) -> None:
    hs = connector(sb, page_size=10)
    pages = hs.pull("contacts", Position(0).encode())
    seen = [r.id for r in next(pages).records]
    sb.change(0.3, seed=5)  # contacts already delivered and not yet read both move to "now"
    for page in pages:
        seen += [r.id for r in page.records]
    live = {
        sb.state.hubspot.ids["contacts"][c["Id"]] for c in sb.world.contacts if not c["IsDeleted"]
    }
    assert set(seen) == live  # nothing lost; the edited ones may come twice (idempotent upserts)


def test_records_sharing_one_millisecond_are_walked_once_each(sb) -> None:
    hs_state = sb.state.hubspot
    ids = [c.id for c in records(connector(sb).pull("companies", None))[0]]
    same = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    for cid in ids[:35]:
        hs_state.pinned[("companies", cid)] = same
    cursor = Position(int(same.timestamp() * 1000) - 1).encode()
    hs = connector(sb, page_size=10, search_window=50)
    hs_state.search_window = 50
    got, _ = records(hs.pull("companies", cursor))
    assert Counter(c.id for c in got).most_common(1)[0][1] == 1
    assert set(ids) == {c.id for c in got}
    # resuming from the middle of the tie: nothing delivered twice, nothing skipped
    pages = list(hs.pull("companies", cursor))
    middle = pages[1].cursor
    rest, _ = records(hs.pull("companies", middle))
    before = {r.id for p in pages[:2] for r in p.records}
    assert before.isdisjoint({r.id for r in rest}) and before | {r.id for r in rest} == set(ids)
    for cid in ids[:35]:  # more records in one millisecond than the window holds
        hs_state.pinned[("companies", cid)] = same
    for cid in ids[35:]:
        hs_state.pinned[("companies", cid)] = same
    hs_state.search_window = len(ids) - 5
    small = connector(sb, page_size=10, search_window=len(ids) - 5)
    with pytest.raises(Fatal, match="share hs_lastmodifieddate"):
        records(small.pull("companies", cursor))


def test_429_waits_the_retry_after_it_was_sent_then_succeeds(sb) -> None:
    limits = sb.state.hubspot.limits
    now = [0.0]
    limits.clock = lambda: now[0]
    limits.per_ten_seconds = 2
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        now[0] += seconds

    hs = connector(sb, policy=RetryPolicy(sleep=sleep))
    owners = hs.owners()  # two calls (live and archived owners)
    companies, _ = records(hs.pull("companies", None))  # owners again + the list: refused once
    assert owners and companies
    assert waits and waits[0] == 10.0
    assert [r["status"] for r in sb.requests].count(429) == len(waits)


def test_207_fails_only_the_named_company_with_hubspots_message(sb) -> None:
    hs = connector(sb)
    ids = [c.id for c in records(hs.pull("companies", None))[0][:3]]
    sb.faults.record_errors("INVALID_PROPERTY_VALUE", ids=[ids[1]], message="bad value for x")
    items = [WriteItem(i, {"fields": {"health_score": 80, "health_band": "Green"}}) for i in ids]
    assert hs.writer is not None
    results = hs.writer.push("crm_account_fields", items)
    assert [r.ok for r in results] == [True, False, True]
    assert results[1].message == "bad value for x" and not results[1].retriable
    written = {w["target_id"]: w["changes"] for w in sb.writes}
    assert set(written) == {ids[0], ids[2]}
    assert written[ids[0]] == {"pulsehub_health_score": "80", "pulsehub_health_band": "Green"}
    refused = hs.writer.push("crm_account_fields", [WriteItem(ids[0], {"fields": {"arr": 1}})])
    assert refused[0].error_code == "FIELD_NOT_WRITABLE"


def test_a_task_create_that_may_have_landed_is_found_by_its_key_not_sent_again(sb) -> None:
    hs = connector(sb)
    companies = records(hs.pull("companies", None))[0][:3]
    items = [
        WriteItem(c.id, {"what_id": c.id, "owner_id": c.owner_id, "subject": f"Call {c.name}",
                         "description": "health dropped", "due_date": "2026-12-10",
                         "priority": "High"}, key=f"esc-{n}")
        for n, c in enumerate(companies)
    ]  # fmt: skip
    assert hs.writer is not None
    first = hs.writer.push("crm_task", items)
    assert all(r.ok and r.created_id for r in first)
    # results come back in another order: matched by key, not position
    by_key = {
        t["properties"]["pulsehub_task_key"]: t["id"] for t in sb.state.hubspot.tasks.values()
    }
    assert [r.created_id for r in first] == [by_key[f"esc-{n}"] for n in range(3)]
    replay = [WriteItem(i.target_id, i.payload, maybe_sent=True, key=i.key) for i in items]
    again = hs.writer.push("crm_task", replay)
    assert [r.created_id for r in again] == [r.created_id for r in first]
    assert len(sb.state.hubspot.tasks) == 3
    created = [w for w in sb.writes if w["kind"] == "task_created"]
    assert len(created) == 3 and created[0]["changes"]["hs_task_priority"] == "HIGH"


def test_configuration_mistakes_name_the_key_and_the_fix(tmp_path) -> None:
    with pytest.raises(ConfigError, match=r"key 'token'.*hubspot source's options"):
        build(SourceConfig("hubspot", "hubspot", {}))
    with pytest.raises(ConfigError, match=r"key 'base_url'.*https"):
        build(SourceConfig("hubspot", "hubspot", {"token": "t", "base_url": "http://example.com"}))
    bad = tmp_path / "hs.yaml"
    bad.write_text("writable_fields:\n  health_score: {api: Health Score}\n")
    with pytest.raises(ConfigError, match=r"hs.yaml.*writable_fields"):
        build(SourceConfig("hubspot", "hubspot", {"token": "t", "fields_file": str(bad)}))


def test_a_spent_daily_limit_stops_the_run_and_a_wrong_token_is_an_auth_error(sb) -> None:
    limits = sb.state.hubspot.limits
    limits.daily, limits.daily_used = 10, 10
    with pytest.raises(BudgetExhausted, match="daily"):
        connector(sb).owners()
    limits.daily, limits.daily_used = 1_000_000, 0
    hs = connector(sb, budget_reserve=999_998)
    hs.owners()  # learns the budget from the rate-limit headers
    assert hs.api_usage() == (2, 1_000_000)
    with pytest.raises(BudgetExhausted, match="reserve"):
        hs.owners()
    wrong = httpx.Client(base_url=sb.base_url, headers={"Authorization": "Bearer nope"})
    with pytest.raises(AuthError, match="Authentication credentials not found"):
        HubSpotConnector(wrong, policy=RetryPolicy(sleep=lambda s: None)).owners()


def test_the_reconcile_full_read_leaves_archived_companies_out(sb) -> None:
    hs = connector(sb)
    before = {c.id for c in records(hs.pull("companies", None))[0]}
    gone = sorted(before)[0]
    world_id = sb.state.hubspot.world_id("companies", gone)
    sb.world.sf["Account"][world_id]["IsDeleted"] = True
    after = {c.id for c in records(hs.pull("companies", None))[0]}
    assert after == before - {gone}  # sync marks what a complete read no longer returns deleted


def test_a_malformed_company_is_quarantined_with_its_reason_and_the_pull_goes_on(sb) -> None:
    hs = connector(sb)
    _, cursor = records(hs.pull("companies", None))
    sb.tick(60)
    bad = sb.world.account_ids()[0]
    sb.world.sf["Account"][bad]["ARR__c"] = "n/a"
    sb.world.sf["Account"][bad]["SystemModstamp"] = sb.world.clock.now()
    sb.change(0.2, seed=9)
    pages = list(hs.pull("companies", cursor))
    rejected = [r for p in pages for r in p.rejected]
    assert [r.external_id for r in rejected] == [sb.state.hubspot.ids["companies"][bad]]
    assert "arr" in rejected[0].reason and rejected[0].source == "hubspot"
    assert sum(len(p.records) for p in pages) > 0
    # the cursor moved past the bad record: the next pull does not meet it again
    again = list(hs.pull("companies", pages[-1].cursor))
    assert not [r for p in again for r in p.rejected]


def test_5xx_and_resets_are_retried_and_a_400_fails_with_hubspots_own_message(sb) -> None:
    sb.faults.add(r"/crm/v3/objects/companies$", 503, times=1)
    sb.faults.add(r"/crm/v3/objects/companies$", "reset", times=1)
    hs = connector(sb)
    companies, _ = records(hs.pull("companies", None))
    assert companies
    statuses = [r["status"] for r in sb.requests if r["path"] == "/crm/v3/objects/companies"]
    assert statuses[:3] == [503, "reset", 200]
    fields = HubSpotFieldMap(writable_fields={"health_score": FieldRule(api="no_such_prop")})
    odd = connector(sb, fields=fields)
    assert odd.writer is not None
    with pytest.raises(Fatal, match='property "no_such_prop" does not exist') as caught:
        odd.writer.push(
            "crm_account_fields", [WriteItem(companies[0].id, {"fields": {"health_score": 1}})]
        )
    assert caught.value.status == 400 and caught.value.code == "VALIDATION_ERROR"
    assert [r["status"] for r in sb.requests].count(400) == 1  # never retried


def test_a_task_create_whose_answer_was_lost_is_not_created_twice(sb) -> None:
    hs = connector(sb)
    company = records(hs.pull("companies", None))[0][0]
    payload = {"what_id": company.id, "owner_id": company.owner_id, "subject": "Check in",
               "due_date": "2026-12-10", "priority": "Normal"}  # fmt: skip
    sb.faults.add(r"/crm/v3/objects/tasks/batch/create$", "lost_response")
    assert hs.writer is not None
    with pytest.raises(Retriable):  # a create is not re-sent blindly by the retry policy
        hs.writer.push("crm_task", [WriteItem(company.id, payload, key="esc-lost")])
    assert len(sb.state.hubspot.tasks) == 1  # it landed
    again = hs.writer.push(
        "crm_task", [WriteItem(company.id, payload, maybe_sent=True, key="esc-lost")]
    )
    assert again[0].ok and again[0].created_id == next(iter(sb.state.hubspot.tasks))
    assert len(sb.state.hubspot.tasks) == 1
