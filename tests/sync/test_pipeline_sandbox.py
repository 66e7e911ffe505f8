"""The real pipeline against the sandbox on real loopback HTTP, on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import func, select

from model.db import upgrade
from model.tables import Account, HealthSnapshot, OutboxItem, SyncCursor, SyncRun, Ticket
from pulsehub.demo import sandbox_settings
from pulsehub.runtime import Runtime
from sandbox import Sandbox
from sandbox.state import api_writes


@pytest.fixture
def sb():
    """A fresh world per test: writes change the sandbox, so tests must not share one."""
    with Sandbox(accounts=60, seed=5) as sandbox:
        yield sandbox


def _runtime(sb, url: str) -> Runtime:
    upgrade(url)
    return Runtime(sandbox_settings(sb.base_url, url))


def _api_writes(sb) -> list[dict]:
    return api_writes(sb.requests)


def test_sync_pulls_scores_and_writes_back_then_an_unchanged_rerun_writes_nothing(
    sb, any_db_url
) -> None:
    sb.clear_log()
    rt = _runtime(sb, any_db_url)
    try:
        first = rt.sync()
        assert first.errors == []
        with rt.factory() as s:
            n_accounts = s.execute(select(func.count()).select_from(Account)).scalar_one()
            latest = s.execute(select(func.max(HealthSnapshot.as_of))).scalar_one()
            n_snaps = s.execute(
                select(func.count())
                .select_from(HealthSnapshot)
                .where(HealthSnapshot.as_of == latest)
            ).scalar_one()
            weeks = s.execute(select(func.count(func.distinct(HealthSnapshot.as_of)))).scalar_one()
            assert weeks == 13, "the first run replays 12 weekly snapshots before today's"
            linked_tickets = s.execute(
                select(func.count()).select_from(Ticket).where(Ticket.account_id.is_not(None))
            ).scalar_one()
            cursors = {c.stream for c in s.execute(select(SyncCursor)).scalars()}
            assert (
                s.execute(
                    select(func.count())
                    .select_from(OutboxItem)
                    .where(OutboxItem.status == "pending")
                ).scalar_one()
                == 0
            )
        assert n_accounts == len(sb.world.accounts)
        assert n_accounts * 0.5 <= n_snaps <= n_accounts  # churned customers are not scored
        assert linked_tickets > 0
        assert {"salesforce.accounts", "zendesk.tickets", "usage.daily_usage"} <= cursors

        kinds = Counter(w["kind"] for w in sb.writes)
        assert kinds["account_fields"] == n_snaps  # every scored account got its health fields
        sf_write = next(w for w in sb.writes if w["kind"] == "account_fields")
        assert {"Health_Score__c", "Health_Status__c", "Renewal_Risk_Level__c"} <= set(
            sf_write["changes"]
        )
        assert sf_write["changes"]["Health_Status__c"] in {
            "Green",
            "Yellow",
            "Red",
            "Insufficient Data",
        }
        tagged = [w for w in sb.writes if w["kind"] == "ticket_tags_added"]
        assert tagged and all(
            any(t.startswith("health_") for t in w["changes"]["tags"]) for w in tagged
        )
        assert kinds["org_fields"] > 0
        # largest batches: ceil(accounts / 200) collection calls for the account fields
        collection_calls = [
            r
            for r in sb.requests
            if r["path"].endswith("/composite/sobjects") and r["method"] == "PATCH"
        ]
        assert len(collection_calls) == -(-n_snaps // 200)

        writes_before, api_writes_before = len(sb.writes), len(_api_writes(sb))
        second = rt.sync()
        assert second.errors == [] and second.planned == {}
        assert len(sb.writes) == writes_before
        assert len(_api_writes(sb)) == api_writes_before  # not a single write request
    finally:
        rt.close()


def test_dry_run_plans_everything_and_writes_nothing(sb, sqlite_url) -> None:
    sb.clear_log()
    rt = _runtime(sb, sqlite_url)
    try:
        report = rt.sync(dry_run=True)
        assert report.plan_sample, "a first dry run must have something to plan"
        assert set(report.planned) >= {"crm_account_fields", "helpdesk_ticket_tags"}
        assert _api_writes(sb) == [] and sb.writes == []
        with rt.factory() as s:
            assert s.execute(select(func.count()).select_from(OutboxItem)).scalar_one() == 0
            run = s.execute(select(SyncRun)).scalar_one()
            assert run.dry_run and run.status == "succeeded"
    finally:
        rt.close()
