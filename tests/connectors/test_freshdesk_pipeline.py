"""End to end on the sandbox with Salesforce + Freshdesk + usage: the production wiring
(`pulsehub.demo.sandbox_settings(..., helpdesk="freshdesk")`, the `freshdesk` entry point)
pulls, resolves, scores, writes back company fields and ticket tags, opens engineering
tickets in Freshdesk exactly once (a crash before recording included), then an unchanged
re-run writes nothing; a dry run writes nothing; a rejected write is dead-lettered with
Freshdesk's own message."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select, update

from model.db import upgrade
from model.tables import Escalation, ExternalIdentity, OutboxItem, Ticket
from pulsehub.demo import sandbox_settings
from pulsehub.runtime import Runtime
from sandbox import Sandbox
from sandbox.scenarios import plant_sla_breach
from sandbox.state import api_writes as logged_writes


@pytest.fixture
def sb() -> Iterator[Sandbox]:
    with Sandbox(accounts=80, seed=1) as sandbox:
        plant_sla_breach(sandbox.world)  # an engineering escalation whatever the hour
        yield sandbox


def runtime(sb: Sandbox, url: str) -> Runtime:
    upgrade(url)
    return Runtime(sandbox_settings(sb.base_url, url, helpdesk="freshdesk"))


def api_writes(sb: Sandbox) -> list[dict[str, Any]]:
    return logged_writes(sb.requests)


def created(sb: Sandbox) -> list[dict[str, Any]]:
    return [w for w in sb.writes if w["kind"] == "ticket_created"]


def test_full_pipeline_with_freshdesk_as_the_helpdesk(sb, any_db_url) -> None:
    rt = runtime(sb, any_db_url)
    try:
        first = rt.sync()
        assert first.errors == []
        assert {"freshdesk.companies", "freshdesk.tickets"} <= set(first.pulled)
        systems = {r["system"] for r in sb.requests}
        assert "freshdesk" in systems and "zendesk" not in systems
        with rt.factory() as s:
            linked = s.scalar(
                select(func.count())
                .select_from(ExternalIdentity)
                .where(ExternalIdentity.source == "freshdesk", ExternalIdentity.status == "linked")
            )
            rated = s.scalar(
                select(func.count()).select_from(Ticket).where(Ticket.csat.is_not(None))
            )
            timed = s.scalar(
                select(func.count())
                .select_from(Ticket)
                .where(Ticket.first_reply_minutes.is_not(None))
            )
            assert s.scalar(select(func.count()).select_from(OutboxItem).where(
                OutboxItem.status.not_in(("done", "superseded")))) == 0  # fmt: skip
        assert linked and linked >= 0.9 * len(sb.world.orgs)
        assert rated and timed

        kinds = Counter(w["kind"] for w in sb.writes if w["system"] == "freshdesk")
        assert kinds["company_fields"] > 0 and kinds["ticket_tags_set"] > 0
        company = next(w for w in sb.writes if w["kind"] == "company_fields")
        fields = company["changes"]["custom_fields"]
        assert {"health_score", "health_status", "renewal_risk_level"} <= set(fields)
        tagged = [w for w in sb.writes if w["kind"] == "ticket_tags_set"]
        assert all(any(t.startswith("health_") for t in w["changes"]["tags"]) for w in tagged)

        engineering = created(sb)
        assert engineering, "the default rules raise engineering tickets on this sandbox"
        tags = [next(t for t in w["changes"]["tags"] if t.startswith("ph-")) for w in engineering]
        assert len(set(tags)) == len(tags)
        with rt.factory() as s:
            recorded = dict(s.execute(select(Escalation.id, Escalation.helpdesk_ticket_id).where(
                Escalation.helpdesk_ticket_id.is_not(None))).all())  # fmt: skip
            assert sorted(str(v) for v in recorded.values()) == sorted(
                w["target_id"] for w in engineering
            )
            # a crash between create and record: the creations are pending again
            s.execute(update(OutboxItem).where(OutboxItem.kind == "helpdesk_ticket").values(
                status="pending", done_at=None, next_attempt_at=None))  # fmt: skip
            s.execute(update(Escalation).values(helpdesk_ticket_id=None))
            s.commit()
        rt.drain()
        assert len(created(sb)) == len(engineering)  # found by their key tags, not re-created
        with rt.factory() as s:
            again = dict(s.execute(select(Escalation.id, Escalation.helpdesk_ticket_id).where(
                Escalation.helpdesk_ticket_id.is_not(None))).all())  # fmt: skip
        assert again == recorded

        writes_before, requests_before = len(sb.writes), len(api_writes(sb))
        second = rt.sync()  # pulls the engineering tickets back: they are not the customer's
        assert second.errors == [] and second.planned == {}
        assert len(sb.writes) == writes_before
        assert len(api_writes(sb)) == requests_before  # not a single write request
        with rt.factory() as s:
            pulled_back = s.scalars(select(Ticket).where(Ticket.helpdesk_id.in_(
                [int(w["target_id"]) for w in engineering]))).all()  # fmt: skip
        assert len(pulled_back) == len(engineering)
        assert all(t.status == "new" and t.account_id is None for t in pulled_back)
    finally:
        rt.close()


def test_dry_run_plans_and_writes_nothing(sb, sqlite_url) -> None:
    rt = runtime(sb, sqlite_url)
    try:
        report = rt.sync(dry_run=True)
        assert report.errors == []
        assert {"helpdesk_org_fields", "helpdesk_ticket_tags"} <= set(report.planned)
        assert api_writes(sb) == [] and sb.writes == []
        with rt.factory() as s:
            assert s.scalar(select(func.count()).select_from(OutboxItem)) == 0
    finally:
        rt.close()


def test_a_rejected_write_is_dead_lettered_with_freshdesks_message(sb, sqlite_url) -> None:
    rt = runtime(sb, sqlite_url)
    try:
        org_id = next(o for o in sb.world.orgs.values() if o.get("deleted_at") is None)["id"]
        with rt.factory() as s:
            s.add(OutboxItem(key="bad-value", system="freshdesk", kind="helpdesk_org_fields",
                             target_id=str(org_id),
                             payload={"fields": {"health_score": "eighty"}}))  # fmt: skip
            s.commit()
        rt.drain()
        with rt.factory() as s:
            item = s.scalars(select(OutboxItem).where(OutboxItem.key == "bad-value")).one()
        assert item.status == "dead" and item.attempts == 1  # a 400 is never retried
        assert "Validation failed: health_score: Value set is of type String" in item.last_error
        assert "(datatype_mismatch)" in item.last_error
    finally:
        rt.close()


def test_an_agent_taking_the_engineering_ticket_acknowledges_the_escalation(sb, sqlite_url) -> None:
    from connectors.freshdesk_source import FreshdeskOptions, build_client
    from sandbox import credentials as cred

    rt = runtime(sb, sqlite_url)
    try:
        assert rt.sync().errors == []
        with rt.factory() as s:
            rows = s.execute(select(Escalation.id, Escalation.helpdesk_ticket_id).where(
                Escalation.helpdesk_ticket_id.is_not(None))).all()  # fmt: skip
        assert rows
        taken_id, ticket_id = rows[0]
        untouched = rt.sync()  # pulled back Open with nobody on it: "new", not taken yet
        assert "acknowledged_in_helpdesk" not in untouched.escalations
        options = FreshdeskOptions(domain=cred.FD_DOMAIN, api_key=cred.FD_API_KEY,
                                   loopback_url=sb.base_url)  # type: ignore[arg-type]  # fmt: skip
        with build_client(options) as fd:  # an engineer takes it
            assert fd.put(f"tickets/{ticket_id}", json={"responder_id": 77}).status_code == 200
        report = rt.sync()
        assert report.errors == []
        assert report.escalations.get("acknowledged_in_helpdesk") == 1
        with rt.factory() as s:
            assert s.get(Escalation, taken_id).state == "acknowledged"
    finally:
        rt.close()
