"""What a run decided, read back for comparison: the day's snapshots, every escalation and
outbox item (bookkeeping columns and timestamps left out), and a run of the stages after the
pull, recorded as a completed run (escalation/scope.py compares with the last one)."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

from sqlalchemy import select

from model.db import transaction
from model.tables import Escalation, HealthSnapshot, OutboxItem
from pulsehub.demo import sandbox_settings
from pulsehub.runtime import Runtime
from sandbox import Sandbox
from sync import runs
from sync.pipeline import decide, record_run
from sync.report import RunReport
from sync.routes import write_targets
from sync.stages import action_systems

TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(\.\d+)?(\+00:00|Z)?")
SNAPSHOT_BOOKKEEPING = {"id", "computed_at", "inputs_digest"}
ESCALATION_TIMES = {"id", "opened_at", "updated_at", "acknowledged_at", "resolved_at"}
ESCALATION_TIMES |= {"cooldown_until", "review_due_at"}


def runtime(sb: Sandbox, url: str, *, full: bool) -> Runtime:
    rt = Runtime(sandbox_settings(sb.base_url, url, full_score=full))
    assert rt.job_config.incremental is not full
    return rt


def rows(session: Any, model: Any, skip: set[str], *where: Any) -> list[dict[str, Any]]:
    cols = [c for c in model.__table__.c if c.name not in skip]
    found = session.execute(select(*cols).where(*where)).mappings()
    text = sorted(TIMESTAMP.sub("<t>", json.dumps(dict(r), default=str)) for r in found)
    return [json.loads(t) for t in text]


def state(rt: Runtime, as_of: dt.date) -> dict[str, Any]:
    """What a run decided: the day's snapshots, every escalation, every outbox item."""
    with rt.factory() as s:
        snaps = HealthSnapshot.as_of == as_of
        return {
            "snapshots": rows(s, HealthSnapshot, SNAPSHOT_BOOKKEEPING, snaps),
            "escalations": rows(s, Escalation, ESCALATION_TIMES),
            "outbox": rows(
                s,
                OutboxItem,
                {"id", "key", "created_at", "updated_at", "next_attempt_at", "sent_at"},
            ),
        }


def computed_at(rt: Runtime, as_of: dt.date) -> dict[int, dt.datetime]:
    with rt.factory() as s:
        q = select(HealthSnapshot.account_id, HealthSnapshot.computed_at)
        return dict(s.execute(q.where(HealthSnapshot.as_of == as_of)).tuples().all())


def scored_ids(rt: Runtime, as_of: dt.date) -> list[int]:
    """The accounts with a snapshot of the day, by id."""
    with rt.factory() as s:
        q = select(HealthSnapshot.account_id).where(HealthSnapshot.as_of == as_of)
        return list(s.scalars(q.order_by(HealthSnapshot.account_id)))


def first_diff(got: list[dict[str, Any]], want: list[dict[str, Any]]) -> str:
    if len(got) != len(want):
        return f"{len(got)} rows, not {len(want)}"
    for g, w in zip(got, want, strict=True):
        if g != w:
            return repr({k: small_diff(g.get(k), w.get(k)) for k in w if g.get(k) != w.get(k)})
    return ""


def small_diff(g: Any, w: Any) -> Any:
    if isinstance(g, dict) and isinstance(w, dict):
        return {k: small_diff(g.get(k), w.get(k)) for k in {*g, *w} if g.get(k) != w.get(k)}
    return (g, w)


def recorded_run(rt: Runtime, as_of: dt.date, now: dt.datetime | None = None) -> RunReport:
    """A recorded run of what follows the pull (the last completed run matters: see
    escalation/scope.py), judged at `now` (the clock when not given)."""
    run_id = runs.start_run(rt.factory, "sync")
    report = decide_after_pull(rt, as_of, run_id, now)
    record_run(rt.factory, report, "succeeded")
    return report


def decide_after_pull(
    rt: Runtime, as_of: dt.date, run_id: int = 0, now: dt.datetime | None = None
) -> RunReport:
    """What a run does after its pull: resolve, score, escalate, plan and queue (committed)."""
    report = RunReport(run_id=run_id, dry_run=False)
    decide(
        lambda: transaction(rt.factory), rt.job_config, write_targets(rt.connectors), report,
        as_of, stage=lambda name, count=0, detail=None: None,
        systems=action_systems(rt.connectors, rt.job_config), now=now,
    )  # fmt: skip
    return report
