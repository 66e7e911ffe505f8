"""Budget reserve, fault storms, timeouts and the NDJSON rollup, against the sandbox."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest

from connectors.errors import BudgetExhausted
from connectors.http import RetryPolicy
from connectors.salesforce import SalesforceConnector
from connectors.usage import UsageConnector, rollup_events
from connectors.zendesk import ZendeskConnector
from tests.connectors.conftest import sandbox_salesforce, sandbox_usage, sandbox_zenpy


def salesforce(sb, policy: RetryPolicy, **kwargs) -> SalesforceConnector:
    kwargs.setdefault("bulk_threshold", None)
    return SalesforceConnector(sandbox_salesforce(sb.base_url), policy=policy, **kwargs)


def test_budget_reserve_stops_early_and_resumes(sandbox, policy) -> None:
    sandbox.limits.sf_daily = sandbox.limits.sf_used + 6
    pages = []
    with pytest.raises(BudgetExhausted) as stopped:
        for page in salesforce(sandbox, policy, page_size=7, budget_reserve=5).pull(
            "contacts", None
        ):
            pages.append(page)
    assert len(pages) == 1 and stopped.value.total == sandbox.limits.sf_daily
    sandbox.limits.sf_daily += 100_000  # the next day
    rest = list(salesforce(sandbox, policy, page_size=7).pull("contacts", pages[-1].cursor))
    full = list(salesforce(sandbox, policy, page_size=7).pull("contacts", None))
    got = [r.id for p in pages + rest for r in p.records]
    assert got == [r.id for p in full for r in p.records]


def test_flaky_apis_still_deliver_everything_once(sandbox, policy, monkeypatch) -> None:
    calm = {
        "accounts": [
            r.id
            for p in salesforce(sandbox, policy, page_size=7).pull("accounts", None)
            for r in p.records
        ],
    }
    zd = ZendeskConnector(
        sandbox_zenpy(sandbox.base_url, monkeypatch), policy=policy, page_size=200
    )
    calm["tickets"] = [r.id for p in zd.pull("tickets", None) for r in p.records]
    sandbox.faults.set_profile("flaky")  # 5% 429, 2% 503, 1% connection resets
    sf = salesforce(sandbox, policy, page_size=7)
    stormy_accounts = [r.id for p in sf.pull("accounts", None) for r in p.records]
    stormy_tickets = [r.id for p in zd.pull("tickets", None) for r in p.records]
    assert stormy_accounts == calm["accounts"]
    assert sorted(stormy_tickets) == sorted(calm["tickets"])
    faults = [r for r in sandbox.requests if r.get("status") in (429, 503) or r.get("fault")]
    assert faults, "the profile injected faults"


def test_a_stalled_response_times_out_and_is_retried(sandbox, sleeps) -> None:
    sandbox.state.timeout_seconds = 1.0
    sandbox.faults.add(r"/usage/v1/workspaces", "timeout", times=1)
    fast = RetryPolicy(timeout=0.3, initial_wait=0.01, max_wait=0.05, sleep=sleeps)
    usage = UsageConnector(sandbox_usage(sandbox.base_url), policy=fast)
    assert [r for p in usage.pull("workspaces", None) for r in p.records]
    assert len(sleeps) == 1


def test_export_rollup_matches_the_daily_aggregates(sandbox, policy) -> None:
    from sandbox import credentials

    basic = httpx.BasicAuth(credentials.USAGE_EXPORT_SECRET, "")
    usage = UsageConnector(sandbox_usage(sandbox.base_url), policy=policy, export_auth=basic)
    day = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=3)
    rolled = {(d.workspace_id, d.day): d for d in rollup_events(usage.export_events(day, day))}
    start = dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)
    daily = [
        r for p in usage.pull("daily_usage", None, start=start) for r in p.records if r.day == day
    ]
    assert rolled and len(rolled) == len([d for d in daily if d.active_users])
    for row in daily:
        if not row.active_users:
            continue
        mine = rolled[(row.workspace_id, day)]
        assert (mine.logins, mine.feature_events) == (row.logins, row.feature_events)
        assert 0 < mine.active_users <= row.active_users
        assert 0 < mine.features_used <= row.features_used


def test_no_secret_reaches_any_log_at_debug(sandbox, policy, monkeypatch, caplog) -> None:
    from sandbox import credentials as c

    sandbox.faults.add(r"/query", 503, times=1)
    sandbox.faults.add(r"/incremental/users", 429, times=1)
    sandbox.faults.add(r"/usage/v1/workspaces", 500, times=1)
    with caplog.at_level("DEBUG"):
        list(salesforce(sandbox, policy).pull("users", None))
        zd = ZendeskConnector(sandbox_zenpy(sandbox.base_url, monkeypatch), policy=policy)
        list(zd.pull("users", None))
        list(
            UsageConnector(sandbox_usage(sandbox.base_url), policy=policy).pull("workspaces", None)
        )
    assert "retrying" in caplog.text, "the failures were logged"
    for secret in (c.SF_SESSION_ID, c.ZD_API_TOKEN, c.USAGE_BEARER_TOKEN, c.USAGE_EXPORT_SECRET):
        assert secret not in caplog.text


def test_spent_daily_quota_is_budget_exhausted_not_retried(sandbox, policy, sleeps) -> None:
    sandbox.limits.sf_daily = sandbox.limits.sf_used  # 403 REQUEST_LIMIT_EXCEEDED from now on
    sf = salesforce(sandbox, policy, budget_reserve=0)
    with pytest.raises(BudgetExhausted):
        list(sf.pull("users", None))
    assert sf.calls == 1 and sleeps == []


def test_ticket_create_retried_after_a_reset_opens_one_ticket(sandbox, policy, monkeypatch) -> None:
    from connectors.zendesk_records import TicketCreate

    zd = ZendeskConnector(sandbox_zenpy(sandbox.base_url, monkeypatch), policy=policy)
    sandbox.faults.add(r"/api/v2/tickets\.json$", "reset", times=1, method="POST")
    spec = TicketCreate(subject="Escalation", body="b", external_id="pulsehub-esc-reset")
    result = zd.create_ticket(spec, idempotency_key="esc-reset")
    assert result.ok and result.created_id
    posts = [
        r for r in sandbox.requests if r["method"] == "POST" and r["path"] == "/api/v2/tickets.json"
    ]
    assert len(posts) == 2, "the reset POST was re-sent under the same Idempotency-Key"
    found = zd.transport.request("GET", "tickets.json", params={"external_id": spec.external_id})
    assert [t["id"] for t in found["tickets"]] == [int(result.created_id)]
