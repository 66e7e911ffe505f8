"""The quarterly review: aggregates over episodes, and the CLI (`pulsehub escalations ...`)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from escalation import lifecycle
from escalation.facts import gather_facts
from escalation.lifecycle import reconcile
from escalation.report import build_report
from escalation.rules import evaluate
from model.tables import Escalation
from pulsehub.commands.escalations import app
from tests.escalation import factories as f
from tests.escalation.factories import NOW


def run(session, config, accounts, now):
    facts = gather_facts(session, now.date(), [a.id for a in accounts], config)
    return reconcile(session, {i: evaluate(x, config) for i, x in facts.items()}, now, config)


@pytest.fixture
def history(session, config):
    """Big: red + renewal review (sev1), red acked after 2h, both resolved after 24h when the
    account turns green, both back after the cooldown. Small: repeated issue, never acked."""
    big = f.account(session, name="Bigco", arr=600_000, tier="strategic")
    f.renewal(session, big, in_days=20, amount=600_000)
    f.snapshot(session, big, 0, "red", 20)
    small = f.account(session, name="Smallco", arr=10_000)
    f.snapshot(session, small, 0, "green", 80)
    for i in range(3):
        f.ticket(session, small, "Importer times out", days_ago=i + 1)
    run(session, config, [big, small], NOW)
    esc = session.query(Escalation).filter_by(rule="band_red").one()
    lifecycle.acknowledge(esc, NOW + timedelta(hours=2))
    f.snapshot(session, big, -1, "green", 80)
    run(session, config, [big], NOW + timedelta(hours=24))
    f.snapshot(session, big, -16, "red", 20)
    run(session, config, [big], NOW + timedelta(days=16))
    session.commit()
    return big, small


def test_report_counts_episodes_timings_repeats_and_reviews(session, config, history):
    report = build_report(session, NOW + timedelta(days=17), since=NOW - timedelta(days=1))
    assert report.total.escalations == 5  # red and renewal twice each, repeated issue once
    by_rule = {r.name: r for r in report.per_rule}
    assert by_rule["band_red"].escalations == 2 and by_rule["band_red"].open == 1
    assert by_rule["band_red"].median_ack_hours == 2.0
    assert by_rule["band_red"].median_resolve_hours == 24.0
    assert by_rule["repeated_issue"].open == 1
    assert {r.name for r in report.per_severity} <= {"sev1", "sev2", "sev3", "sev4"}
    assert by_rule["renewal_review"].escalations == 2
    assert by_rule["renewal_review"].median_ack_hours is None
    assert report.per_customer[0].name == "Bigco" and report.per_customer[0].escalations == 4
    repeats = {(r.account, r.episodes) for r in report.repeat_issues}
    assert ("Bigco", 2) in repeats and ("Smallco", 1) in repeats
    reviews = [r for r in report.reviews if r.account == "Bigco"]
    assert len(reviews) == 2
    assert all(r.due_at == NOW + timedelta(hours=24 + 72) and r.overdue for r in reviews)


def test_report_window_excludes_older_episodes(session, config, history):
    report = build_report(session, NOW + timedelta(days=17), since=NOW + timedelta(days=5))
    assert report.total.escalations == 2
    assert {r.name for r in report.per_rule} == {"band_red", "renewal_review"}


@pytest.fixture
def cli_db(monkeypatch, engine, history):
    from alembic import command

    from model.db import alembic_config
    from pulsehub.settings import get_settings

    command.stamp(alembic_config(str(engine.url)), "head")  # create_all's schema is head's
    monkeypatch.setenv("PULSEHUB_DATABASE_URL", str(engine.url))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_cli_report_json_and_tables(cli_db):
    runner = CliRunner()
    result = runner.invoke(app, ["report", "--since", "2026-01-01", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["total"]["escalations"] == 5
    text = runner.invoke(app, ["report", "--since", "2026-01-01"])
    assert text.exit_code == 0, text.output
    for heading in ("Per severity", "Per rule", "Per customer", "Repeat issues", "Post-incident"):
        assert heading in text.output


def test_cli_list_and_ack(cli_db):
    runner = CliRunner()
    listed = json.loads(runner.invoke(app, ["list", "--state", "open", "--json"]).output)
    target = next(r for r in listed if r["rule"] == "repeated_issue")
    assert runner.invoke(app, ["ack", str(target["id"]), "--by", "sam"]).exit_code == 0
    again = runner.invoke(app, ["ack", str(target["id"])])
    assert again.exit_code == 1 and "acknowledged" in again.output
    assert runner.invoke(app, ["ack", "99999"]).exit_code == 1
    acked = json.loads(runner.invoke(app, ["list", "--state", "acknowledged", "--json"]).output)
    assert [r["id"] for r in acked] == [target["id"]]


def test_cli_replay_leaves_live_escalations_alone(cli_db, session):
    before = session.query(Escalation).count()
    result = CliRunner().invoke(
        app,
        ["replay", "--start", "2026-06-25", "--end", "2026-07-18", "--step-days", "1", "--json"],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["accounts"] == 2
    # red on 06-30 and again on 07-16 after the 14-day cooldown, the repeated issue; the
    # renewal review firing with it is listed on the red escalation (one_per_account)
    assert data["by_rule"] == {"band_red": 2, "repeated_issue": 1}
    session.expire_all()
    assert session.query(Escalation).count() == before


def test_cli_resolve_queues_the_note_and_review(cli_db, session):
    esc = session.query(Escalation).filter_by(rule="band_red").one()
    assert esc.state == "open"
    runner = CliRunner()
    result = runner.invoke(app, ["resolve", str(esc.id), "--note", "exec call went well"])
    assert result.exit_code == 0, result.output
    session.expire_all()
    esc = session.get(Escalation, esc.id)
    assert esc.state == "resolved" and esc.resolution_note == "exec call went well"
    assert esc.review_due_at is not None  # Sev1: post-incident review
    from model.tables import OutboxItem

    keys = set(session.scalars(select(OutboxItem.key)))
    assert f"esc:{esc.dedup_key}#2:review" in keys
    assert runner.invoke(app, ["resolve", str(esc.id), "--note", "again"]).exit_code == 1
