"""Defect 9 end to end: an organization with `created_at: "yesterday"` and an Opportunity
with `AccountId: "not-an-id"`, served by the sandbox to the real clients, land in the
quarantine table with their reason — not in the model — and the run carries on."""

from __future__ import annotations

from sqlalchemy import select

from model.db import upgrade
from model.tables import Account, ExternalIdentity, Opportunity, QuarantinedRecord, SyncRun
from pulsehub.demo import sandbox_settings
from pulsehub.runtime import Runtime
from sandbox import Sandbox
from tests.reliability.crashkit import NOW


def test_bad_references_are_quarantined_with_the_reason_and_the_run_goes_on(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'refs.db'}"
    upgrade(url)
    with Sandbox(accounts=6, seed=31, now=NOW) as sb:
        org_id = next(iter(sb.world.orgs))
        sb.world.orgs[org_id]["created_at"] = "yesterday"
        opp_id = next(iter(sb.world.sf["Opportunity"]))
        sb.world.sf["Opportunity"][opp_id]["AccountId"] = "not-an-id"
        good_opps = len(sb.world.sf["Opportunity"]) - 1
        rt = Runtime(sandbox_settings(sb.base_url, url))
        try:
            report = rt.sync()
        finally:
            rt.close()
    with rt.factory() as s:
        quarantined = {
            (q.source, q.stream, q.external_id): q.reason
            for q in s.scalars(select(QuarantinedRecord))
        }
        stored_opps = set(s.scalars(select(Opportunity.crm_id)))
        zd_orgs = set(
            s.scalars(
                select(ExternalIdentity.external_id).where(ExternalIdentity.source == "zendesk")
            )
        )
        accounts = s.scalars(select(Account.id)).all()
        run = s.scalars(select(SyncRun).order_by(SyncRun.id.desc())).first()
    opp_reason = quarantined.pop(("salesforce", "opportunities", opp_id))
    org_reason = quarantined.pop(("zendesk", "organizations", str(org_id)))
    assert "account_id" in opp_reason and "not a Salesforce id" in opp_reason
    assert "created_at" in org_reason and "yesterday" in org_reason
    assert quarantined == {}, "nothing else was quarantined"
    assert opp_id not in stored_opps and len(stored_opps) == good_opps
    assert str(org_id) not in zd_orgs and len(zd_orgs) == len(sb.world.orgs) - 1
    assert len(accounts) == 6 and report.errors == [] and run is not None
    assert run.status == "succeeded", "the run went on past the two bad records"
