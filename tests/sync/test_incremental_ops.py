"""The onboarding/handoff and review stages, looking only at what changed since their last
committed mark, decide exactly what a pass over the whole book decides.

One sandbox and one database (SQLite, then PostgreSQL) go through runs: the first sync,
unchanged re-runs (which must look at no account), 1% of every record kind changed
(accounts, contacts, usage, tickets: snapshots re-scored), an account handed off with its
checklist incomplete, a run killed inside the stage (nothing of it committed, its mark
neither), and the next day (stall timers and renewal windows move). At each run's stages the
whole book is decided first in a session of its own (mark removed, rolled back), then the
stage runs as it would and must leave the same rows and queue the same tasks.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from model import marks
from model.db import transaction, upgrade
from model.tables import (
    Account,
    AccountStage,
    Handoff,
    HealthSnapshot,
    OnboardingPhase,
    OutboxItem,
    RcaReview,
    SyncCursor,
    utcnow,
)
from pulsehub.demo import sandbox_settings
from pulsehub.runtime import Runtime
from sandbox import Sandbox
from sync import operations, pipeline, reviews, runs
from sync.outbox import CreateRequest
from sync.pipeline import decide, record_run
from sync.pull import history_start, pull, select_streams
from sync.report import RunReport
from sync.routes import write_targets
from sync.stages import action_systems


class Killed(Exception):
    """Stands for the process dying inside a stage, before its transaction committed."""


def _state(session: Session, requests: list[CreateRequest]) -> dict[str, list[str]]:
    """What a stage decided: its rows (ids left out) and the tasks it queues."""
    session.flush()

    def rows(table: Any, *skip: str) -> list[str]:
        cols = [c for c in table.__table__.c if c.name not in {"id", *skip}]
        return sorted(
            json.dumps(dict(r), default=str, sort_keys=True)
            for r in session.execute(select(*cols)).mappings()
        )

    return {
        "phases": rows(OnboardingPhase),
        "stages": rows(AccountStage),
        "handoffs": rows(Handoff, "created_at"),
        "rca": rows(RcaReview),
        "outbox": rows(OutboxItem, "created_at", "updated_at"),
        "tasks": sorted(
            json.dumps([r.key, r.system, r.kind, r.payload], default=str, sort_keys=True)
            for r in requests
        ),
    }


class Book:
    """A runtime whose operations and reviews stages are checked against the whole book."""

    def __init__(self, sb: Sandbox, url: str, monkeypatch: Any) -> None:
        upgrade(url)
        self.sb, self.rt = sb, Runtime(sandbox_settings(sb.base_url, url))
        self.seen: list[dict[str, int]] = []
        self.kill = False
        monkeypatch.setattr(pipeline, "run_operations", self._operations)
        monkeypatch.setattr(pipeline, "run_reviews", self._reviews)
        # runs here are seconds apart and nothing else writes: without the overlap kept for
        # other writers' open transactions, an unchanged run looks at no account
        monkeypatch.setattr(marks, "MARGIN", dt.timedelta(0))

    def _checked(
        self, stream: str, session: Session, call: Callable[[Session], tuple[dict[str, int], list[CreateRequest]]]
    ) -> tuple[dict[str, int], list[CreateRequest]]:  # fmt: skip
        with self.rt.factory() as whole:  # no mark: the whole book, what it must equal
            whole.execute(delete(SyncCursor).where(SyncCursor.stream == stream))
            counts, requests = call(whole)
            assert "whole_book" in counts
            want = _state(whole, requests)
            whole.rollback()
        counts, requests = call(session)
        got = _state(session, requests)
        for part, rows in want.items():
            missing, extra = sorted(set(rows) - set(got[part])), sorted(set(got[part]) - set(rows))
            assert got[part] == rows, f"{stream} {part}: missing {missing[:2]}, extra {extra[:2]}"
        self.seen.append({"stream": stream, **counts})  # type: ignore[dict-item]
        if self.kill:
            raise Killed(stream)
        return counts, requests

    def _operations(self, session: Session, as_of: dt.date, config: Any, systems: Any,
                    scope: Any = None, *, now: Any = None) -> Any:  # fmt: skip
        return self._checked(
            operations.MARK_STREAM, session,
            lambda s: operations.run_operations(s, as_of, config, systems, scope, now=now),
        )  # fmt: skip

    def _reviews(
        self, session: Session, now: dt.datetime, config: Any, systems: Any, queue: Any
    ) -> Any:  # the stage's creations collected and checked, then handed to the pipeline
        def collected(s: Session) -> tuple[dict[str, int], list[CreateRequest]]:
            requests: list[CreateRequest] = []
            return reviews.run_reviews(s, now, config, systems, requests.extend), requests

        counts, requests = self._checked(reviews.MARK_STREAM, session, collected)
        queue(requests)
        return counts

    def run(self, as_of: dt.date, adjust: Callable[[Session], None] | None = None) -> list[dict[str, int]]:  # fmt: skip
        """Pull, `adjust` (a session), decide (checked) and push; the stages' counts."""
        streams = select_streams(self.rt.connectors.values(), "all")
        pulled = RunReport(run_id=0, dry_run=False)
        pull(self.rt.factory, self.rt.connectors, streams, pulled, reconcile=False,
             start=history_start(as_of))  # fmt: skip
        assert pulled.errors == []
        if adjust is not None:
            with transaction(self.rt.factory) as s:
                adjust(s)
        before = len(self.seen)
        report = RunReport(run_id=runs.start_run(self.rt.factory, "sync"), dry_run=False)
        decide(
            lambda: transaction(self.rt.factory), self.rt.job_config,
            write_targets(self.rt.connectors), report, as_of,
            stage=lambda name, count=0, detail=None: None,
            systems=action_systems(self.rt.connectors, self.rt.job_config),
        )  # fmt: skip
        record_run(self.rt.factory, report, "succeeded")
        self.rt.drain()
        self.sb.tick(120)  # past the exports' one-minute lag
        return self.seen[before:]

    def settle(self, as_of: dt.date) -> list[dict[str, int]]:
        """Re-run until the operations stage looks at no account (re-syncs read back writes)."""
        for _ in range(5):
            seen = self.run(as_of)
            if not seen[0].get("accounts_evaluated"):
                return seen
        raise AssertionError(f"unchanged runs kept looking: {self.seen[-10:]}")


@pytest.fixture
def sb():
    with Sandbox(accounts=60, seed=5) as sandbox:
        yield sandbox


def test_stages_after_a_mark_decide_what_the_whole_book_decides(sb, any_db_url, monkeypatch) -> None:  # fmt: skip
    book = Book(sb, any_db_url, monkeypatch)
    today = dt.datetime.now(dt.UTC).date()
    ops, rev = book.run(today)
    assert ops["whole_book"] and ops["accounts_evaluated"] > 30 and rev["whole_book"]
    ops, rev = book.settle(today)
    assert ops["changed_only"] and not ops.get("accounts_evaluated") and rev["changed_only"]

    sb.change(0.01, seed=3)  # 1% of every record kind: accounts, contacts, usage, tickets
    ops, _ = book.run(today)
    assert ops["changed_only"] and ops.get("accounts_evaluated", 0) >= 1
    book.settle(today)

    def rescored(s: Session) -> None:
        """A snapshot re-scored with onboarding done (its row unchanged): the phase moves."""
        row = s.scalars(
            select(OnboardingPhase)
            .where(OnboardingPhase.exited_on.is_(None), OnboardingPhase.position < 2)
            .order_by(OnboardingPhase.account_id)
        ).first()
        assert row is not None
        snap = s.scalars(
            select(HealthSnapshot).where(
                HealthSnapshot.account_id == row.account_id, HealthSnapshot.as_of == today
            )
        ).one()
        snap.signals = {**snap.signals, "onboarding_milestones": 1.0, "feature_breadth": 5}
        snap.computed_at = utcnow()
        moved["id"], moved["position"] = row.account_id, row.position

    moved: dict[str, int] = {}
    ops, _ = book.run(today, adjust=rescored)
    assert ops["changed_only"] and ops["accounts_evaluated"] >= 1
    with book.rt.factory() as s:
        now_in = s.scalars(
            select(OnboardingPhase.position).where(
                OnboardingPhase.account_id == moved["id"], OnboardingPhase.exited_on.is_(None)
            )
        ).one()
        assert now_in > moved["position"]

    handed: dict[str, int] = {}

    def hand_off(s: Session) -> None:
        """An onboarding account goes live with nothing documented: an incomplete handoff."""
        acc = s.scalars(
            select(Account)
            .join(AccountStage, AccountStage.account_id == Account.id)
            .where(Account.is_deleted.is_(False), Account.crm_id.is_not(None))
            .order_by(Account.id)
        ).first()
        seen = s.get(AccountStage, acc.id) if acc is not None else None
        assert acc is not None and seen is not None
        seen.stage = "Onboarding"  # last seen in implementation, now live
        acc.lifecycle_stage, acc.attributes = "Adoption", {}
        handed["id"] = acc.id

    ops, _ = book.run(today, adjust=hand_off)
    assert ops["handoff_tasks"] == 1 and ops["accounts_evaluated"] >= 1
    with book.rt.factory() as s:
        assert s.scalars(select(Handoff.account_id)).all() == [handed["id"]]
    book.settle(today)

    book.kill = True  # a run dies inside the stage after a change: nothing of it commits
    with pytest.raises(Killed):
        book.run(today, adjust=lambda s: _rename_stage(s, handed["id"], "Onboarding"))
    book.kill = False
    ops, _ = book.run(today)  # the mark was not committed: the change is looked at now
    assert ops["changed_only"] and ops["accounts_evaluated"] >= 1

    sb.advance(1)
    tomorrow = today + dt.timedelta(days=1)
    ops, rev = book.run(tomorrow)  # the day's first run: stall timers for everyone
    assert ops["whole_book"] and rev["changed_only"]
    ops, _ = book.settle(tomorrow)
    assert ops["changed_only"]
    book.rt.close()


def _rename_stage(s: Session, account_id: int, stage: str) -> None:
    acc = s.get(Account, account_id)
    assert acc is not None
    acc.lifecycle_stage = stage
