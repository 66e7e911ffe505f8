"""CS operations on the sandbox over loopback HTTP: a review task for every renewal reaches the
crm exactly once (a dry run shows it and writes nothing); a solved engineering escalation owes
an RCA, reminded once on its ticket when overdue, done when the ticket is tagged."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest
import yaml
from sqlalchemy import select, update

from escalation.config import DEFAULT_RULES_FILE
from escalation.report import build_report
from model.db import upgrade
from model.tables import Account, Escalation, OutboxItem, RcaReview, utcnow
from pulsehub.demo import sandbox_settings
from pulsehub.runtime import Runtime
from sandbox import Sandbox
from sandbox import credentials as cred
from sandbox.scenarios import plant_sla_breach


@pytest.fixture
def rt(tmp_path):
    with Sandbox(accounts=80, seed=1) as sb:
        plant_sla_breach(sb.world)  # an engineering escalation whatever the hour
        url = f"sqlite:///{tmp_path / 'ops.db'}"
        upgrade(url)
        rules = yaml.safe_load(DEFAULT_RULES_FILE.read_text())
        rules_file = tmp_path / "rules.yaml"
        rules_file.write_text(yaml.safe_dump(rules))
        runtime = Runtime(sandbox_settings(sb.base_url, url, rules_file=rules_file))
        runtime.sb = sb  # type: ignore[attr-defined]
        try:
            yield runtime
        finally:
            runtime.close()


def review_tasks(sb) -> list[dict]:
    return [
        w
        for w in sb.writes
        if w["kind"] == "task_created"
        and str(w["changes"].get("Subject", "")).startswith("Renewal review:")
    ]


def test_every_renewal_gets_one_review_task_with_its_risk_assessment(rt):
    dry = rt.sync(dry_run=True)
    assert dry.reviews["renewal_reviews"] > 0
    assert dry.planned["crm_task"] >= dry.reviews["renewal_reviews"]
    assert review_tasks(rt.sb) == []  # the dry run wrote nothing
    with rt.factory() as s:
        assert s.scalars(select(OutboxItem.key).where(OutboxItem.key.like("ops:%"))).all() == []

    first = rt.sync()
    assert first.errors == []
    today = utcnow().date()
    with rt.factory() as s:
        renewing = s.execute(
            select(Account.crm_id, Account.renewal_date).where(
                Account.renewal_date >= today,
                Account.renewal_date <= today + dt.timedelta(days=90),
                Account.owner_crm_id.is_not(None),
            )
        ).all()
    tasks = review_tasks(rt.sb)
    assert len(tasks) == first.reviews["renewal_reviews"] > 0
    # one review per renewal: the renewal escalation's own task counts as one
    every = [
        w["changes"]["WhatId"]
        for w in rt.sb.writes
        if w["kind"] == "task_created"
        and str(w["changes"].get("Subject", "")).startswith("Renewal review")
    ]
    assert sorted(every) == sorted(crm for crm, _ in renewing)
    bands = {t["changes"]["Subject"].rsplit("(", 1)[1].rstrip(")") for t in tasks}
    assert "green" in bands, "a review for every renewal, green ones too"
    body = tasks[0]["changes"]["Description"]
    assert "Risk assessment" in body and "health:" in body
    at_risk = [
        t
        for t in tasks
        if "(red)" in t["changes"]["Subject"] or "(yellow)" in t["changes"]["Subject"]
    ]
    assert all("success plan" in t["changes"]["Description"] for t in at_risk)

    rt.sb.tick(61)
    again = rt.sync()
    assert again.errors == [] and again.reviews.get("renewal_reviews", 0) == 0
    assert len(review_tasks(rt.sb)) == len(tasks)  # exactly once per renewal


def _zendesk(rt) -> httpx.Client:
    auth = (f"{cred.ZD_EMAIL}/token", cred.ZD_API_TOKEN)
    return httpx.Client(base_url=rt.sb.base_url, auth=auth)


def rca_reminders(sb, ticket_id: int) -> list[dict]:
    return [
        w
        for w in sb.writes
        if w["kind"] == "ticket_updated"
        and w["target_id"] == str(ticket_id)
        and "Root-cause analysis" in str(w["changes"])
    ]


def test_rca_is_due_72h_after_the_solve_reminded_once_and_done_by_tag(rt):
    assert rt.sync().errors == []
    with rt.factory() as s:
        esc_id, ticket_id = s.execute(
            select(Escalation.id, Escalation.helpdesk_ticket_id).where(
                Escalation.helpdesk_ticket_id.is_not(None)
            )
        ).first()
    with _zendesk(rt) as zd:  # engineering solves the ticket
        r = zd.put(f"/api/v2/tickets/{ticket_id}.json", json={"ticket": {"status": "solved"}})
        assert r.status_code == 200
    rt.sb.tick(61)
    assert rt.sync().reviews.get("rca_opened") == 1
    with rt.factory() as s:
        review = s.scalars(select(RcaReview).where(RcaReview.escalation_id == esc_id)).one()
        assert review.due_at - review.solved_at == dt.timedelta(hours=72)
        assert review.done_at is None and review.reminded_at is None
        # 73 hours go by
        past = utcnow() - dt.timedelta(hours=73)
        s.execute(
            update(RcaReview)
            .where(RcaReview.id == review.id)
            .values(solved_at=past, due_at=past + dt.timedelta(hours=72))
        )
        s.commit()
    assert rca_reminders(rt.sb, ticket_id) == []
    dry = rt.sync(dry_run=True)
    assert dry.reviews.get("rca_reminded") == 1
    assert rca_reminders(rt.sb, ticket_id) == []  # a dry run reminds no one
    reminded = rt.sync()
    assert reminded.reviews.get("rca_reminded") == 1
    notes = rca_reminders(rt.sb, ticket_id)
    assert len(notes) == 1 and notes[0]["changes"]["comment"]["public"] is False
    rt.sb.tick(61)
    assert rt.sync().reviews.get("rca_reminded") is None
    assert len(rca_reminders(rt.sb, ticket_id)) == 1  # exactly once

    now = utcnow()
    report = build_report_with_rca(rt, now)
    assert report.rca.owed == 1 and report.rca.overdue == 1 and report.rca.done_on_time == 0

    with _zendesk(rt) as zd:  # the RCA is written up: engineering tags the ticket
        r = zd.put(
            f"/api/v2/tickets/{ticket_id}.json",
            json={"ticket": {"additional_tags": ["rca_done"]}},
        )
        assert r.status_code == 200
    rt.sb.tick(61)
    assert rt.sync().reviews.get("rca_done") == 1
    with rt.factory() as s:
        review = s.scalars(select(RcaReview).where(RcaReview.escalation_id == esc_id)).one()
        assert review.done_by == "tag:rca_done" and review.done_at > review.due_at
    report = build_report_with_rca(rt, utcnow())
    assert report.rca.done == 1 and report.rca.done_on_time == 0 and report.rca.overdue == 0
    assert report.rca.compliance == 0.0


def build_report_with_rca(rt, now):
    with rt.factory() as s:
        return build_report(s, now, since=now - dt.timedelta(days=90))
