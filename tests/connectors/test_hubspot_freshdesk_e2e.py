"""End to end with neither built-in crm nor helpdesk: HubSpot + Freshdesk + usage on the sandbox.

The production wiring (`sandbox_settings(..., "freshdesk", crm="hubspot")`, both entry points)
pulls, resolves every Freshdesk company to its HubSpot company, scores, writes back company
properties (HubSpot) and company fields and ticket tags (Freshdesk), opens escalations with
owner tasks and engineering tickets exactly once; an unchanged re-run writes nothing; a dry
run writes nothing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select

from model.db import upgrade
from model.tables import Account, Escalation, ExternalIdentity, HealthSnapshot
from pulsehub.demo import sandbox_settings
from pulsehub.runtime import Runtime
from sandbox import Sandbox
from sandbox.scenarios import plant_sla_breach
from sandbox.state import api_writes


@pytest.fixture
def sb() -> Iterator[Sandbox]:
    with Sandbox(accounts=80, seed=1) as sandbox:
        plant_sla_breach(sandbox.world)  # an engineering escalation whatever the hour
        yield sandbox


def _runtime(sb: Sandbox, url: str) -> Runtime:
    upgrade(url)
    return Runtime(sandbox_settings(sb.base_url, url, "freshdesk", crm="hubspot"))


def _api_writes(sb: Sandbox) -> list[dict[str, Any]]:
    return api_writes(sb.requests)


def test_hubspot_and_freshdesk_run_the_whole_pipeline_exactly_once(sb, any_db_url) -> None:
    rt = _runtime(sb, any_db_url)
    try:
        first = rt.sync()
        assert first.errors == []
        systems = {r["system"] for r in sb.requests} - {"control"}
        assert systems == {"hubspot", "freshdesk", "usage"}  # no Salesforce, no Zendesk call
        assert {"hubspot.companies", "freshdesk.companies", "freshdesk.tickets"} <= set(
            first.pulled
        )
        with rt.factory() as s:
            accounts = s.scalar(select(func.count()).select_from(Account))
            links = Counter(
                s.execute(
                    select(ExternalIdentity.source, ExternalIdentity.status).where(
                        ExternalIdentity.kind == "organization"
                    )
                ).all()
            )
            latest = s.scalar(select(func.max(HealthSnapshot.as_of)))
            scored = s.scalar(
                select(func.count())
                .select_from(HealthSnapshot)
                .where(HealthSnapshot.as_of == latest)
            )
            escalations = s.execute(select(Escalation)).scalars().all()
        assert accounts == sum(1 for a in sb.world.accounts if not a["IsDeleted"])
        assert links[("freshdesk", "linked")] == len(sb.world.orgs)  # every company matched
        assert scored and scored >= accounts * 0.5

        kinds = Counter(w["kind"] for w in sb.writes)
        assert kinds["company_properties"] == scored  # HubSpot: every scored company's health
        assert kinds["company_fields"] > 0 and kinds["ticket_tags_set"] > 0  # Freshdesk
        assert escalations, "the default rules should open escalations on this sandbox"
        tasks = [w for w in sb.writes if w["kind"] == "task_created"]
        tickets = [w for w in sb.writes if w["kind"] == "ticket_created"]
        assert tasks and tickets
        recorded_tasks = sorted(e.crm_task_id for e in escalations if e.crm_task_id)
        recorded_tickets = sorted(
            str(e.helpdesk_ticket_id) for e in escalations if e.helpdesk_ticket_id
        )
        keys = [t["changes"]["pulsehub_task_key"] for t in tasks]
        assert len(set(keys)) == len(keys)  # every owner task (escalations', onboarding's) once
        escalation_tasks = [
            t for t in tasks if t["changes"]["pulsehub_task_key"].startswith("esc:")
        ]
        assert recorded_tasks == sorted(str(t["target_id"]) for t in escalation_tasks)
        assert recorded_tickets == sorted(str(t["target_id"]) for t in tickets)

        writes_before, api_before = len(sb.writes), len(_api_writes(sb))
        second = rt.sync()
        assert second.errors == [] and second.planned == {}
        assert len(sb.writes) == writes_before
        assert len(_api_writes(sb)) == api_before  # an unchanged re-run sends no write
    finally:
        rt.close()


def test_a_dry_run_with_hubspot_and_freshdesk_writes_nothing(sb, sqlite_url) -> None:
    rt = _runtime(sb, sqlite_url)
    try:
        report = rt.sync(dry_run=True)
        assert report.errors == []
        assert {"crm_account_fields", "helpdesk_org_fields"} <= set(report.planned)
        assert _api_writes(sb) == [] and sb.writes == []
    finally:
        rt.close()
