"""End to end on the sandbox: engineering tickets are created once, whatever happens between.

The real pipeline (pull, score, escalate, outbox, zenpy push) runs against the loopback
sandbox; we then replay the worst case — the ticket was created in Zendesk but the run died
before recording it — and rerun everything.
"""

from __future__ import annotations

import pytest
import yaml
from sqlalchemy import select, update

from escalation.config import DEFAULT_RULES_FILE
from model.db import upgrade
from model.tables import Escalation, OutboxItem
from pulsehub.demo import sandbox_settings
from pulsehub.runtime import Runtime
from sandbox import Sandbox
from sandbox.scenarios import plant_sla_breach

FORM_ID = 360000123


@pytest.fixture
def rt(tmp_path):
    with Sandbox(accounts=80, seed=1) as sb:
        plant_sla_breach(sb.world)  # an engineering escalation whatever the hour
        url = f"sqlite:///{tmp_path / 'e2e.db'}"
        upgrade(url)
        rules = yaml.safe_load(DEFAULT_RULES_FILE.read_text())
        rules["engineering_ticket"]["ticket_form_id"] = FORM_ID
        rules_file = tmp_path / "rules.yaml"
        rules_file.write_text(yaml.safe_dump(rules))
        runtime = Runtime(sandbox_settings(sb.base_url, url, rules_file=rules_file))
        runtime.sb = sb  # type: ignore[attr-defined]
        try:
            yield runtime
        finally:
            runtime.close()


def created_tickets(sb) -> list[dict]:
    return [w for w in sb.writes if w["kind"] == "ticket_created"]


def test_engineering_tickets_once_across_reruns_and_a_crash_before_recording(rt):
    sb = rt.sb
    first = rt.sync()
    assert first.errors == []
    created = created_tickets(sb)
    assert created, "the default rules should raise engineering tickets on this sandbox"
    external_ids = [w["changes"].get("external_id") for w in created]
    assert all(e and e.startswith("pulsehub:") for e in external_ids)
    assert len(set(external_ids)) == len(external_ids)
    assert {w["changes"].get("ticket_form_id") for w in created} == {FORM_ID}
    with rt.factory() as s:
        recorded = dict(
            s.execute(
                select(Escalation.id, Escalation.helpdesk_ticket_id).where(
                    Escalation.helpdesk_ticket_id.is_not(None)
                )
            ).all()
        )
        assert len(recorded) == len(created)
        # crash between create and record: the push is pending again, nothing recorded
        s.execute(
            update(OutboxItem)
            .where(OutboxItem.kind == "helpdesk_ticket")
            .values(status="pending", done_at=None, next_attempt_at=None)
        )
        s.execute(update(Escalation).values(helpdesk_ticket_id=None))
        s.commit()
    rt.drain()
    assert len(created_tickets(sb)) == len(created)  # replayed under the same Idempotency-Key
    with rt.factory() as s:
        again = dict(
            s.execute(
                select(Escalation.id, Escalation.helpdesk_ticket_id).where(
                    Escalation.helpdesk_ticket_id.is_not(None)
                )
            ).all()
        )
    assert again == recorded
    second = rt.sync()
    assert second.errors == []
    assert len(created_tickets(sb)) == len(created)


def test_an_engineer_taking_the_ticket_acknowledges_the_escalation(rt):
    import httpx

    from sandbox import credentials as cred

    assert rt.sync().errors == []
    with rt.factory() as s:
        rows = s.execute(
            select(Escalation.id, Escalation.helpdesk_ticket_id).where(
                Escalation.helpdesk_ticket_id.is_not(None)
            )
        ).all()
    assert rows, "the default rules should raise an engineering ticket on this sandbox"
    taken_id, ticket_id = rows[0]
    rt.sb.tick(61)  # past the incremental export's one-minute lag
    untouched = rt.sync()  # the ticket comes back `new`: nobody has taken it yet
    assert "acknowledged_in_helpdesk" not in untouched.escalations
    with rt.factory() as s:
        assert s.get(Escalation, taken_id).state == "open"
    auth = (f"{cred.ZD_EMAIL}/token", cred.ZD_API_TOKEN)
    with httpx.Client(base_url=rt.sb.base_url, auth=auth) as client:  # an engineer assigns it
        r = client.put(f"/api/v2/tickets/{ticket_id}.json", json={"ticket": {"assignee_id": 77}})
        assert r.status_code == 200 and r.json()["ticket"]["status"] == "open"
    rt.sb.tick(61)
    report = rt.sync()
    assert report.errors == []
    assert report.escalations.get("acknowledged_in_helpdesk") == 1
    with rt.factory() as s:
        taken = s.get(Escalation, taken_id)
        assert taken.state == "acknowledged" and taken.acknowledged_at is not None
        others = s.scalars(select(Escalation.state).where(Escalation.id != taken_id)).all()
        assert "acknowledged" not in others


def test_each_escalation_remembers_the_owner_task_its_push_created(rt):
    """Regression: a created Task's id was only kept for upserts, so an escalation never knew
    its Salesforce task (no link in the inbox, none kept per episode)."""
    rt.sync()
    with rt.factory() as s:
        pushed = s.scalars(
            select(OutboxItem).where(
                OutboxItem.kind == "crm_task",
                OutboxItem.status == "done",
                OutboxItem.key.like("esc:%"),  # escalations' tasks (onboarding ones: ops:)
            )
        ).all()
        # renewal reviews are crm tasks of no escalation (sync/reviews.py)
        pushed = [i for i in pushed if "escalation_id" in i.payload["_meta"]]
        assert pushed, "the world must open at least one escalation with an owner task"
        for item in pushed:
            esc = s.get(Escalation, item.payload["_meta"]["escalation_id"])
            created = item.result.get("created_id")
            assert created and created.startswith("00T") and esc.crm_task_id == created
    tasks = {w["target_id"] for w in rt.sb.writes if w["kind"] == "task_created"}
    assert {i.result["created_id"] for i in pushed} <= tasks
