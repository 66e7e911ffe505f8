"""`pulsehub score run | backfill | override | revoke | explain | audit` against a real database file."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from model.db import make_engine, make_session_factory, transaction
from model.tables import HealthSnapshot, ScoreAudit, ScoreOverride
from pulsehub.commands.score import app
from pulsehub.settings import get_settings
from tests.scoring import factories as f

TODAY = date.today()


@pytest.fixture()
def db(migrated_url: str, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("PULSEHUB_DATABASE_URL", migrated_url)
    get_settings.cache_clear()
    engine = make_engine(migrated_url)
    factory = make_session_factory(engine)
    with transaction(factory) as s:
        a = f.account(s, lifecycle_stage="Adoption")
        f.usage(s, a, TODAY - timedelta(days=120), 93, active=30, seats=40, features=1, logins=2)
        f.usage(s, a, TODAY - timedelta(days=27), 28, active=1, seats=40, features=1, logins=2)
        # a ticket with its metrics: the fitted default scorecard weighs reply and resolution
        # times, so without them this account's data would cover too little to be scored
        f.ticket(s, a, f.at(TODAY - timedelta(days=3)), priority="urgent", csat="bad",
                 csat_at=f.at(TODAY - timedelta(days=2)), first_reply_minutes=600,
                 full_resolution_minutes=4000, reopens=1)  # fmt: skip
        account_id = a.id
    yield factory, account_id
    engine.dispose()
    get_settings.cache_clear()


def test_run_override_explain_revoke(db) -> None:
    factory, account_id = db
    runner = CliRunner()
    ran = runner.invoke(app, ["run"])
    assert ran.exit_code == 0, ran.output
    assert "scored 1 accounts: {'red': 1}" in ran.output
    one = runner.invoke(app, ["run", "--account", str(account_id)])
    assert "scored 1 accounts: {'red': 1}" in one.output
    bad = runner.invoke(app, ["override", str(account_id), "--reason", "x", "--band", "blue"])
    assert bad.exit_code == 2
    ok = runner.invoke(app, ["override", str(account_id), "--reason", "exec sponsor re-engaged",
                             "--band", "yellow", "--days", "14"])  # fmt: skip
    assert ok.exit_code == 0, ok.output
    runner.invoke(app, ["run"])
    with factory() as s:
        snap = s.scalars(select(HealthSnapshot)).one()
        assert snap.band == "yellow" and snap.computed_band == "red"
        override_id = s.scalars(select(ScoreOverride.id)).one()
    shown = runner.invoke(app, ["explain", str(account_id)])
    assert "yellow" in shown.output and "computed red" in shown.output
    assert "renewal risk" in shown.output
    assert runner.invoke(app, ["revoke", str(override_id)]).exit_code == 0
    runner.invoke(app, ["run"])
    with factory() as s:
        assert s.scalars(select(HealthSnapshot)).one().band == "red"


def test_backfill_and_audit_without_outcomes(db) -> None:
    factory, _ = db
    runner = CliRunner()
    done = runner.invoke(app, ["backfill", "--days", "28", "--step", "7"])
    assert done.exit_code == 0, done.output
    assert "wrote 5 snapshots" in done.output
    audit = runner.invoke(app, ["audit", "--json", "--bootstrap", "10"])
    assert audit.exit_code == 0, audit.output
    report = json.loads(audit.output)
    assert len(report["weekly_drift"]["weeks"]) == 4  # five weekly snapshots: four changes
    assert report["overrides"]["overrides"] == 0
    text = runner.invoke(app, ["audit", "--bootstrap", "10"])
    assert "CSM overrides: 0 on record" in text.output and "score PSI" in text.output
    with factory() as s:  # each audit stores its drift and overrides for the dashboard
        stored = s.scalars(select(ScoreAudit).order_by(ScoreAudit.id)).all()
        assert [a.source for a in stored] == ["score audit", "score audit"]
        assert stored[-1].report["drift"] == report["weekly_drift"]


def test_bad_scorecard_fails_with_its_name(db, tmp_path) -> None:
    path = tmp_path / "card.yaml"
    path.write_text("groups: [usage]\n")
    out = CliRunner().invoke(app, ["run", "--scorecard", str(path)])
    assert out.exit_code == 2
    assert "card.yaml" in out.output and "add this key" in out.output
