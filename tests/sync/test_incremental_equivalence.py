"""Incremental scoring and escalation decide exactly what a full re-score decides.

One sandbox and one database go through a day of runs: the first sync (the daily pass), an
unchanged re-run, 1% of every record kind changed, an override set, a scorecard change,
the next day. Each step pulls once, copies the database, then decides (resolve, score,
escalate, plan, queue) incrementally on the original and with `full_score` on the copy:
the day's snapshots, the escalations and the outbox must be equal. Then the original's
outbox is pushed to the sandbox and the next step goes on from there, as a real schedule
would.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, select

from escalation.scope import cluster_capable, scored_after_last_run
from model.db import transaction, upgrade
from model.tables import (
    Account,
    Contact,
    ExternalIdentity,
    HealthSnapshot,
    ScoreOverride,
    SyncRun,
    Ticket,
)
from pulsehub.runtime import Runtime
from sandbox import Sandbox
from sync import pipeline, runs
from sync.pull import history_start, pull, select_streams
from sync.report import RunReport
from tests.sync.equivalence import (
    computed_at,
    decide_after_pull,
    first_diff,
    recorded_run,
    runtime,
    scored_ids,
    state,
)


class Day:
    """The database under test (incremental) and a copy per step (full re-score)."""

    def __init__(self, sb: Sandbox, tmp_path: Path) -> None:
        self.sb, self.tmp, self.path = sb, tmp_path, tmp_path / "main.db"
        upgrade(self.url(self.path))
        self.rt = runtime(sb, self.url(self.path), full=False)
        self.steps = 0

    @staticmethod
    def url(path: Path) -> str:
        return f"sqlite:///{path}"

    def step(self, as_of: dt.date, adjust: Any = None) -> tuple[dict[str, Any], int]:
        """Pull once, copy the database, then decide incrementally on the original and with a
        full re-score on the copy; returns the state and how many of the day's snapshots the
        incremental run (re)wrote."""
        self.steps += 1
        rt, copy = self.rt, self.tmp / f"full-{self.steps}.db"
        streams = select_streams(rt.connectors.values(), "all")
        pulled = RunReport(run_id=0, dry_run=False)
        pull(
            rt.factory, rt.connectors, streams, pulled, reconcile=False, start=history_start(as_of)
        )
        assert pulled.errors == []
        with sqlite3.connect(self.path) as src, sqlite3.connect(copy) as dst:
            src.backup(dst)  # a consistent copy, with what is still in the write-ahead log
        full = runtime(self.sb, self.url(copy), full=True)
        if adjust is not None:
            adjust(rt), adjust(full)
        before = computed_at(rt, as_of)
        # both judge at one instant: run one after the other on the clock, a due time
        # (an RCA's, a cool-down's) could fall between them on a loaded machine
        now = dt.datetime.now(dt.UTC)
        inc, want_report = recorded_run(rt, as_of, now), recorded_run(full, as_of, now)
        after = computed_at(rt, as_of)
        rescored = sum(1 for a, t in after.items() if before.get(a) != t)
        got, want = state(rt, as_of), state(full, as_of)
        for part in want:
            assert got[part] == want[part], f"step {self.steps}: {part} differ: " + first_diff(
                got[part], want[part]
            )
        assert (inc.bands, inc.escalations) == (want_report.bands, want_report.escalations)
        assert inc.planned == want_report.planned
        full.engine.dispose()
        rt.drain()  # push what was decided; the next step pulls what that moved
        self.sb.tick(120)  # past the exports' one-minute lag
        return got, rescored

    def crash_after_score(self, as_of: dt.date, adjust: Any, monkeypatch: Any) -> None:
        """A run killed right after its scores committed: its escalation step never runs
        and its run row stays `running`."""
        rt = self.rt
        streams = select_streams(rt.connectors.values(), "all")
        pull(rt.factory, rt.connectors, streams, RunReport(run_id=0, dry_run=False),
             reconcile=False, start=history_start(as_of))  # fmt: skip
        adjust(rt)

        def die(name: str) -> None:
            if name == "after_score":
                raise Killed(name)

        with monkeypatch.context() as m:
            m.setattr(pipeline, "crash_point", die)
            with pytest.raises(Killed):
                decide_after_pull(rt, as_of, runs.start_run(rt.factory, "sync"))


class Killed(Exception):
    """Stands for the process dying at a crash point (the transactions before it committed)."""


def _settle(day: Day, as_of: dt.date, adjust: Any = None) -> int:
    """Re-run unchanged until a run re-scores nothing (at most 4 runs); returns how many the
    runs re-scored in all."""
    total = 0
    for _ in range(4):
        _, rescored = day.step(as_of, adjust)
        if rescored == 0:
            return total
        total += rescored
    raise AssertionError(f"unchanged runs kept re-scoring: {total} in 4 runs")


@pytest.fixture
def sb():
    with Sandbox(accounts=60, seed=5) as sandbox:
        yield sandbox


def test_incremental_runs_decide_exactly_what_full_re_scores_decide(sb, tmp_path) -> None:
    day = Day(sb, tmp_path)
    today = dt.datetime.now(dt.UTC).date()

    state, rescored = day.step(today)  # the first sync: the daily pass scores everyone
    scored = len(state["snapshots"])
    assert scored > 30 and rescored == scored
    assert state["outbox"], "the first sync plans write-back"

    # the re-syncs right after read back what pulsehub's own writes moved (the modstamps of
    # every account it wrote, the tickets it tagged) and re-score those accounts; then a run
    # with nothing new re-scores nothing (`_settle` fails otherwise)
    _settle(day, today)

    sb.change(0.01, seed=3)  # 1% of every record kind
    _, rescored = day.step(today)
    # 1% of the usage history's rows, spread over a small book, can touch most accounts (a
    # full pass is then the cheaper one): what is asserted is that both decide the same
    assert rescored > 0

    def override(rt: Runtime) -> None:
        with transaction(rt.factory) as s:
            aid = s.scalars(
                select(HealthSnapshot.account_id).where(HealthSnapshot.as_of == today)
            ).first()
            expires = dt.datetime.now(dt.UTC) + dt.timedelta(days=3)
            s.add(ScoreOverride(account_id=aid, band="red", reason="exec sponsor left",
                                author="csm", expires_at=expires))  # fmt: skip

    state, rescored = day.step(today, override)
    assert rescored >= 1
    assert any(s["override_id"] is not None for s in state["snapshots"])

    def fewer_reasons(rt: Runtime) -> None:
        cfg = rt.job_config
        cfg.scorecard = cfg.scorecard.model_copy(update={"max_reasons": 2})

    _, rescored = day.step(today, fewer_reasons)  # a scorecard change re-scores everyone
    assert rescored == scored

    sb.advance(1)
    tomorrow = today + dt.timedelta(days=1)
    state, rescored = day.step(tomorrow, fewer_reasons)  # the next day's daily pass
    assert rescored == len(state["snapshots"]) > 30
    _settle(day, tomorrow, fewer_reasons)


def test_a_moved_child_and_a_deleted_account_are_seen(sb, tmp_path) -> None:
    """Changes no source timestamp shows: an account re-parented (its old and new parents'
    roll-ups change) and an account deleted (its parent's roll-up changes)."""
    day = Day(sb, tmp_path)
    today = dt.datetime.now(dt.UTC).date()
    _settle(day, today)
    scored = scored_ids(day.rt, today)
    child, new_parent, gone = scored[-1], scored[0], scored[len(scored) // 2]

    def reparent(rt: Runtime) -> None:
        with transaction(rt.factory) as s:
            row, parent = s.get(Account, child), s.get(Account, new_parent)
            assert row is not None and parent is not None
            row.parent_crm_id, row.parent_id = parent.crm_id, parent.id

    _, rescored = day.step(today, reparent)
    assert rescored >= 2  # the child and its new parent

    def delete(rt: Runtime) -> None:
        with transaction(rt.factory) as s:
            row = s.get(Account, gone)
            assert row is not None
            row.is_deleted = True

    day.step(today, delete)
    _settle(day, today)


def test_a_run_killed_between_score_and_escalate_is_caught_up(sb, tmp_path, monkeypatch) -> None:
    """The killed run re-scored an account (an override set); the next run finds its inputs
    unchanged since that snapshot, but the snapshot newer than the last completed run, so it
    re-evaluates the account's rules the killed run never evaluated."""
    day = Day(sb, tmp_path)
    today = dt.datetime.now(dt.UTC).date()
    _settle(day, today)
    with day.rt.factory() as s:
        rules = day.rt.job_config.rules
        assert rules is not None
        busy = cluster_capable(s, today, rules)
        # an account the override turns red (green or yellow: which bands a small world holds
        # depends on the scorecard's cut-offs), not re-evaluated for its tickets anyway
        candidates = s.scalars(
            select(HealthSnapshot.account_id)
            .where(HealthSnapshot.as_of == today, HealthSnapshot.band.in_(["green", "yellow"]))
            .order_by(HealthSnapshot.score.desc(), HealthSnapshot.account_id)
        )
        green = next(a for a in candidates if a not in busy)
        assert green not in scored_after_last_run(s, today)

    def red(rt: Runtime) -> None:
        with transaction(rt.factory) as s:
            expires = dt.datetime.now(dt.UTC) + dt.timedelta(days=3)
            s.add(ScoreOverride(account_id=green, band="red", reason="champion left",
                                author="csm", expires_at=expires))  # fmt: skip

    day.crash_after_score(today, red, monkeypatch)
    with day.rt.factory() as s:
        assert green in scored_after_last_run(s, today)
    _, rescored = day.step(today)  # equal to a full re-score from the killed run's state
    assert rescored == 0  # its inputs did not change since the killed run scored it
    with day.rt.factory() as s:
        assert green not in scored_after_last_run(s, today)


def test_moved_and_deleted_rows_and_an_expiring_override_are_seen(sb, tmp_path) -> None:
    """Changes no source timestamp shows, each step checked against a full re-score of the
    same database: a ticket moved to another account, a contact row deleted, an account
    churned (its rules leave the every-run set and come back only with its inputs), and an
    override that expires between two runs."""
    day = Day(sb, tmp_path)
    today = dt.datetime.now(dt.UTC).date()
    _settle(day, today)
    scored = scored_ids(day.rt, today)
    with day.rt.factory() as s:
        moved = s.scalars(
            select(Ticket.id).where(Ticket.account_id.in_(scored)).order_by(Ticket.id)
        ).first()
        gone = s.scalars(
            select(Contact.id)
            .where(Contact.account_id.in_(scored), Contact.is_deleted.is_(False))
            .order_by(Contact.id)
        ).first()
    assert moved is not None and gone is not None

    def move_and_delete(rt: Runtime) -> None:
        """The ticket moves to another account's organization (and account, as the links say:
        identity resolution re-points a row its links disagree with)."""
        with transaction(rt.factory) as s:
            row = s.get(Ticket, moved)
            assert row is not None
            org = ExternalIdentity
            other = s.execute(
                select(org.account_id, org.external_id)
                .where(org.kind == "organization", org.status == "linked")
                .where(org.source == row.source, org.account_id.in_(scored))
                .where(org.account_id != row.account_id, org.external_id.regexp_match("^[0-9]+$"))
                .order_by(org.account_id.desc())
            ).first()
            assert other is not None
            row.account_id, row.helpdesk_org_id = other.account_id, int(other.external_id)
            s.execute(delete(Contact).where(Contact.id == gone))

    _, rescored = day.step(today, move_and_delete)
    assert rescored >= 2  # the ticket's old and new account, the contact's

    def churn(rt: Runtime) -> None:
        with transaction(rt.factory) as s:
            row = s.get(Account, scored[1])
            assert row is not None
            row.lifecycle_stage = "churned"

    day.step(today, churn)
    with day.rt.factory() as s:
        last = s.scalars(select(SyncRun).order_by(SyncRun.id.desc())).first()
        assert last is not None and last.stats["incremental"]["judged"] >= 1
    _settle(day, today)
    day.step(today)  # unchanged: nothing is judged, the churned account's rules included
    with day.rt.factory() as s:
        last = s.scalars(select(SyncRun).order_by(SyncRun.id.desc())).first()
        assert last is not None and last.stats["incremental"]["judged"] == 0

    expires = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=25)  # outlives both runs

    def short_override(rt: Runtime) -> None:
        with transaction(rt.factory) as s:
            s.add(ScoreOverride(account_id=scored[2], band="red", reason="outage call",
                                author="csm", expires_at=expires))  # fmt: skip

    state, rescored = day.step(today, short_override)
    assert any(s["override_id"] is not None for s in state["snapshots"])
    time.sleep(max(0.0, (expires - dt.datetime.now(dt.UTC)).total_seconds()) + 0.5)
    state, rescored = day.step(today)  # expired: the account is re-scored without it
    assert rescored >= 1 and all(s["override_id"] is None for s in state["snapshots"])
