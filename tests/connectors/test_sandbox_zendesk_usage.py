"""Zendesk (real zenpy session) and usage (httpx) connectors against the loopback sandbox."""

from __future__ import annotations

import datetime as dt

import pytest

from connectors.usage import UsageConnector
from connectors.zendesk import ZendeskConnector
from connectors.zendesk_records import OrgUpdate, TicketCreate
from tests.connectors.conftest import sandbox_usage, sandbox_zenpy


@pytest.fixture
def zd(sandbox, policy, monkeypatch) -> ZendeskConnector:
    return ZendeskConnector(
        sandbox_zenpy(sandbox.base_url, monkeypatch), policy=policy, page_size=50
    )


@pytest.mark.parametrize(
    "stream", ["organizations", "users", "tickets", "ticket_metrics", "satisfaction_ratings"]
)
def test_zendesk_streams_pull_unique_records(zd, stream) -> None:
    pages = list(zd.pull(stream, None))
    assert pages and all(p.cursor for p in pages)
    keys = [(getattr(r, "id", None) or r.ticket_id) for p in pages for r in p.records]
    assert keys and len(keys) == len(set(keys))
    assert not [x for p in pages for x in p.rejected]


def test_ticket_export_resumes_and_sees_only_new_changes(sandbox, zd) -> None:
    pages = list(zd.pull("tickets", None))
    live = next(r for p in pages for r in p.records if r.status not in ("deleted", "closed"))
    ticket_id = live.id
    assert zd.add_ticket_tags(ticket_id, ["pulsehub_red"]).ok
    sandbox.advance(days=1)  # exports exclude the last minute: let the change settle
    again = [r for p in zd.pull("tickets", pages[-1].cursor) for r in p.records]
    ids = [r.id for r in again]
    assert ticket_id in ids and len(ids) == len(set(ids))
    assert len(ids) < sum(len(p.records) for p in pages), "only changes, not everything"
    tagged = next(r for r in again if r.id == ticket_id)
    assert "pulsehub_red" in tagged.tags and set(live.tags) <= set(tagged.tags), "others kept"
    assert zd.remove_ticket_tags(ticket_id, ["pulsehub_red"]).ok


def test_update_organizations_and_idempotent_ticket(zd) -> None:
    orgs = [r for p in zd.pull("organizations", None) for r in p.records][:3]
    results = zd.update_organizations(
        [OrgUpdate(id=o.id, fields={"health_status": "red"}) for o in orgs]
    )
    assert all(r.ok for r in results)
    spec = TicketCreate(subject="Escalation", body="usage fell", tags=["pulsehub"],
                        organization_id=orgs[0].id, external_id="pulsehub-esc-1")  # fmt: skip
    first = zd.create_ticket(spec, idempotency_key="esc-1")
    second = zd.create_ticket(spec, idempotency_key="esc-1")
    assert first.ok and second.ok and first.created_id == second.created_id


def test_usage_streams_and_export(sandbox, policy) -> None:
    usage = UsageConnector(sandbox_usage(sandbox.base_url), page_size=100, policy=policy)
    workspaces = [r for p in usage.pull("workspaces", None) for r in p.records]
    assert workspaces and len({w.id for w in workspaces}) == len(workspaces)
    start = dt.datetime.now(dt.UTC) - dt.timedelta(days=7)
    days = [r for p in usage.pull("daily_usage", None, start=start) for r in p.records]
    assert days and len({(d.workspace_id, d.day) for d in days}) == len(days)


def test_ticket_export_sideloads_metrics_that_match_the_metrics_list(sandbox, zd) -> None:
    from sync.mapping import ticket_row

    tickets = {r.id: r for p in zd.pull("tickets", None) for r in p.records}
    listed = {m.ticket_id: m for p in zd.pull("ticket_metrics", None) for m in p.records}
    with_metric = [t for t in tickets.values() if t.metric is not None]
    assert len(with_metric) >= 0.95 * len(tickets)
    for t in with_metric[:200]:
        assert t.metric.ticket_id == t.id
        if t.id in listed:
            assert t.metric.reply_time_minutes == listed[t.id].reply_time_minutes
            assert t.metric.reopens == listed[t.id].reopens
    row = ticket_row(with_metric[0])
    assert {"first_reply_minutes", "full_resolution_minutes", "reopens", "solved_at"} <= set(row)
    export_calls = [r for r in sandbox.requests if "incremental/tickets" in r["path"]]
    assert all(r["query"].get("include") == "metric_sets" for r in export_calls)


def test_tag_jobs_are_queued_together_and_polled_together(sandbox, monkeypatch) -> None:
    from connectors.http import RetryPolicy
    from connectors.zendesk import ZendeskConnector
    from tests.connectors.conftest import sandbox_zenpy

    sleeps: list[float] = []
    zd = ZendeskConnector(
        sandbox_zenpy(sandbox.base_url, monkeypatch), policy=RetryPolicy(sleep=sleeps.append)
    )
    ids = [r.id for p in zd.pull("tickets", None) for r in p.records if r.status != "deleted"][:250]
    groups = [(ids[:120], ["health_red"], []), (ids[120:], ["health_green"], ["health_red"])]
    results = zd.update_ticket_tag_groups(groups)
    assert [len(r) for r in results] == [120, 130]
    assert all(r.ok for group in results for r in group)
    jobs = [r for r in sandbox.requests if r["path"].endswith("tickets/update_many.json")]
    assert len(jobs) == 4  # ceil(120/100) + ceil(130/100)
    polls = [r for r in sandbox.requests if "/job_statuses/" in r["path"]]
    assert len(sleeps) <= 3 and len(polls) == len(sleeps), "one wait and one poll per round"
    assert all(r["path"].endswith("/job_statuses/show_many.json") for r in polls)
