"""A run whose every source fails stops before scoring: no fresh-looking scores on stale data,
no write-back, a failed run, an error for the caller (the Celery task fails) and an alert."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select

from model.db import upgrade
from model.tables import HealthSnapshot, OutboxItem, SyncRun
from pulsehub.demo import sandbox_settings
from pulsehub.runtime import Runtime
from sandbox import Sandbox
from sync.pipeline import SourcesUnavailable

NOW = dt.datetime(2026, 11, 2, 12, tzinfo=dt.UTC)
RULES = Path(__file__).resolve().parents[2] / "escalation" / "default_rules.yaml"


def test_every_source_failing_fails_the_run_scores_nothing_and_alerts(
    tmp_path, webhook_receiver
) -> None:
    url, posted = webhook_receiver
    rules = yaml.safe_load(RULES.read_text())
    rules["notify"] = {"url": url, "min_severity": "sev1"}
    rules_file = tmp_path / "rules.yaml"
    rules_file.write_text(yaml.safe_dump(rules))
    db = f"sqlite:///{tmp_path / 'down.db'}"
    upgrade(db)
    with Sandbox(accounts=20, seed=4, now=NOW) as sb:
        rt = Runtime(sandbox_settings(sb.base_url, db, rules_file=rules_file))
        first = rt.sync(as_of=NOW.date())
        assert first.errors == []
        posted.clear()
        sb.faults.add(".*", 401, times=10_000)  # every system refuses every request
        with rt.factory() as s:
            outbox_before = s.execute(select(func.count()).select_from(OutboxItem)).scalar()
        with pytest.raises(SourcesUnavailable, match="no source could be read"):
            rt.sync(as_of=NOW.date() + dt.timedelta(days=1))
    with rt.factory() as s:
        run = s.execute(select(SyncRun).order_by(SyncRun.id.desc())).scalars().first()
        assert run is not None and run.status == "failed"
        assert "no source could be read" in (run.error or "")
        fresh = s.execute(
            select(func.count())
            .select_from(HealthSnapshot)
            .where(HealthSnapshot.as_of == NOW.date() + dt.timedelta(days=1))
        ).scalar()
        assert fresh == 0, "nothing is scored on stale data"
        outbox_after = s.execute(select(func.count()).select_from(OutboxItem)).scalar()
        assert outbox_after == (outbox_before or 0) + 1  # only the alert
    assert len(posted) == 1 and posted[0]["event"] == "run_failed"
    assert f"run {run.id} failed" in posted[0]["text"]


def test_a_run_with_no_source_at_all_fails(tmp_path) -> None:
    from scoring.config import load_scorecard
    from sync.jobs import JobConfig, sync_job

    db = f"sqlite:///{tmp_path / 'none.db'}"
    upgrade(db)
    rt = Runtime(sandbox_settings("http://127.0.0.1:9", db))
    config = JobConfig(scorecard=load_scorecard(None))
    with pytest.raises(SourcesUnavailable, match="salesforce: login failed"):
        sync_job(rt.factory, {}, config, errors=["salesforce: login failed: refused"])
    with rt.factory() as s:
        assert s.execute(select(SyncRun.status)).scalars().all() == ["failed"]
