"""End to end on the sandbox with HubSpot as the crm, Zendesk and usage: pull, resolve, score,
write back company properties, escalate with owner tasks exactly once; an unchanged re-run
and a dry run write nothing; a company HubSpot refuses is dead-lettered with its message."""

from __future__ import annotations

from collections import Counter

import httpx
import pytest
from sqlalchemy import func, select, update

from model.db import upgrade
from model.tables import Account, Escalation, ExternalIdentity, HealthSnapshot, OutboxItem
from pulsehub.demo import sandbox_settings
from pulsehub.runtime import Runtime
from sandbox import Sandbox
from sandbox import credentials as cred
from sandbox.state import api_writes
from sync.push import IN_FLIGHT


@pytest.fixture
def sb():
    with Sandbox(accounts=60, seed=5) as sandbox:
        yield sandbox


def _runtime(sb, url: str) -> Runtime:
    upgrade(url)
    return Runtime(sandbox_settings(sb.base_url, url, crm="hubspot"))


def _api_writes(sb) -> list[dict]:
    return api_writes(sb.requests)


def _tasks(sb) -> list[dict]:
    return [w for w in sb.writes if w["kind"] == "task_created"]


def test_hubspot_pipeline_writes_back_escalates_once_and_an_unchanged_rerun_writes_nothing(
    sb, any_db_url
) -> None:
    sb.clear_log()
    rt = _runtime(sb, any_db_url)
    try:
        first = rt.sync()
        assert first.errors == []
        assert {r["system"] for r in sb.requests} <= {"hubspot", "zendesk", "usage", "control"}
        with rt.factory() as s:
            n_accounts = s.execute(select(func.count()).select_from(Account)).scalar_one()
            latest = s.execute(select(func.max(HealthSnapshot.as_of))).scalar_one()
            n_snaps = s.execute(
                select(func.count())
                .select_from(HealthSnapshot)
                .where(HealthSnapshot.as_of == latest)
            ).scalar_one()
            links = Counter(s.execute(select(ExternalIdentity.kind, ExternalIdentity.status)).all())
            tasks_recorded = (
                s.execute(select(Escalation.crm_task_id).where(Escalation.crm_task_id.is_not(None)))
                .scalars()
                .all()
            )
        assert n_accounts == sum(1 for a in sb.world.accounts if not a["IsDeleted"])
        assert n_accounts * 0.5 <= n_snaps <= n_accounts
        assert links[("organization", "linked")] == len(sb.world.orgs)

        kinds = Counter(w["kind"] for w in sb.writes)
        assert kinds["company_properties"] == n_snaps  # every scored company got its health
        props = next(w for w in sb.writes if w["kind"] == "company_properties")["changes"]
        assert {"pulsehub_health_score", "pulsehub_health_band"} <= set(props)
        assert props["pulsehub_health_band"] in {"Green", "Yellow", "Red", "Insufficient Data"}
        updates = [r for r in sb.requests if r["path"].endswith("/companies/batch/update")]
        assert len(updates) == -(-n_snaps // 100)  # largest batches HubSpot allows
        tasks = _tasks(sb)
        assert tasks, "the default rules should give owners tasks on this sandbox"
        keys = [t["changes"]["pulsehub_task_key"] for t in tasks]
        assert len(set(keys)) == len(keys)  # every owner task once (operations' tasks too)
        escalation_tasks = [
            t for t in tasks if t["changes"]["pulsehub_task_key"].startswith("esc:")
        ]
        assert len(escalation_tasks) == len(tasks_recorded)
        assert sorted(tasks_recorded) == sorted(t["target_id"] for t in escalation_tasks)

        writes_before, api_writes_before = len(sb.writes), len(_api_writes(sb))
        second = rt.sync()
        assert second.errors == [] and second.planned == {}
        assert len(sb.writes) == writes_before
        assert len(_api_writes(sb)) == api_writes_before  # not a single write request

        # the worst case: tasks created in HubSpot, the run died before recording them (the
        # items stay pending with the in-flight mark made before the call)
        with rt.factory() as s:
            s.execute(
                update(OutboxItem)
                .where(OutboxItem.kind == "crm_task")
                .values(status="pending", done_at=None, next_attempt_at=None, last_error=IN_FLIGHT)
            )
            s.execute(update(Escalation).values(crm_task_id=None))
            s.commit()
        rt.drain()
        assert len(_tasks(sb)) == len(tasks)  # found by their key, not created again
        with rt.factory() as s:
            again = (
                s.execute(select(Escalation.crm_task_id).where(Escalation.crm_task_id.is_not(None)))
                .scalars()
                .all()
            )
        assert sorted(again) == sorted(tasks_recorded)
    finally:
        rt.close()


def test_a_hubspot_dry_run_plans_and_writes_nothing(sb, sqlite_url) -> None:
    sb.clear_log()
    rt = _runtime(sb, sqlite_url)
    try:
        report = rt.sync(dry_run=True)
        assert report.errors == [] and "crm_account_fields" in report.planned
        assert _api_writes(sb) == [] and sb.writes == []
        with rt.factory() as s:
            assert s.execute(select(func.count()).select_from(OutboxItem)).scalar_one() == 0
    finally:
        rt.close()


def test_a_company_hubspot_refuses_is_dead_lettered_with_its_message_the_rest_applied(
    sb, sqlite_url
) -> None:
    refused = [sb.state.hubspot.hs_id("companies", a) for a in sb.world.account_ids()[:4]]
    message = 'Property values were not valid: "pulsehub_health_score" out of range'
    sb.faults.record_errors("INVALID_PROPERTY_VALUE", ids=refused, times=10, message=message)
    rt = _runtime(sb, sqlite_url)
    try:
        rt.sync()
        with rt.factory() as s:
            items = (
                s.execute(select(OutboxItem).where(OutboxItem.kind == "crm_account_fields"))
                .scalars()
                .all()
            )
        hit = [i for i in items if i.target_id in refused]
        assert hit, "at least one refused company is scored"
        assert all(i.status == "dead" and message in (i.last_error or "") for i in hit)
        rest = [i for i in items if i.target_id not in refused]
        assert rest and all(i.status == "done" for i in rest)
        written = {w["target_id"] for w in sb.writes if w["kind"] == "company_properties"}
        assert written == {i.target_id for i in rest}
    finally:
        rt.close()


@pytest.mark.parametrize(("policy", "rewritten"), [("own", False), ("reassert", True)])
def test_a_hand_edit_of_a_hubspot_health_property(sb, sqlite_url, policy, rewritten) -> None:
    upgrade(sqlite_url)
    rt = Runtime(sandbox_settings(sb.base_url, sqlite_url, crm="hubspot", writeback_policy=policy))
    try:
        assert rt.sync().errors == []
        written = next(w for w in sb.writes if w["kind"] == "company_properties")
        company, band = written["target_id"], written["changes"]["pulsehub_health_band"]
        edited = "Green" if band != "Green" else "Red"
        sb.tick(60)
        hand = httpx.post(
            f"{sb.base_url}/crm/v3/objects/companies/batch/update",
            headers={"Authorization": f"Bearer {cred.HS_PRIVATE_APP_TOKEN}"},
            json={"inputs": [{"id": company, "properties": {"pulsehub_health_band": edited}}]},
        )
        assert hand.status_code == 200
        before = len(sb.writes)
        assert rt.sync().errors == []
        again = [
            w
            for w in sb.writes[before:]
            if w["kind"] == "company_properties" and w["target_id"] == company
        ]
        if rewritten:
            assert again and again[0]["changes"] == {"pulsehub_health_band": band}
        else:
            assert again == []
        third = len(sb.writes)
        assert rt.sync().errors == []
        assert [w for w in sb.writes[third:] if w["kind"] == "company_properties"] == []
    finally:
        rt.close()
