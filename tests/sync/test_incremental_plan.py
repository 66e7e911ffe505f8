"""An incremental write-back plan queues exactly what a plan of the whole book queues.

One sandbox and one database (SQLite, then PostgreSQL) go through a day of runs: the first
sync, unchanged re-runs, 1% of every record kind changed, an override set, a write
dead-lettered and one failing, the `reassert` policy turned on and a pulsehub-owned field
edited in the CRM, a run killed before it planned, a scorecard change and the next day.
At every run's plan stage the whole book is planned first in a session of its own (rolled
back), then the run plans as it would (incrementally where it can) and commits: the outbox
must come out the same. The outbox is then pushed, so the next run reads back what moved.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

import pytest
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from model import marks
from model.db import transaction, upgrade
from model.tables import (
    Account,
    HealthSnapshot,
    OutboxItem,
    ScoreOverride,
    Ticket,
    WrittenState,
)
from pulsehub.demo import sandbox_settings
from pulsehub.runtime import Runtime
from sandbox import Sandbox
from sync import outbox, pipeline, runs
from sync.pipeline import decide, record_run
from sync.pull import history_start, pull, select_streams
from sync.report import RunReport
from sync.routes import write_targets
from sync.stages import action_systems, write_back

TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(\.\d+)?(\+00:00|Z)?")


class Killed(Exception):
    """Stands for the process dying at a crash point (the transactions before it committed)."""


def _outbox(session: Session) -> list[str]:
    cols = [c for c in OutboxItem.__table__.c if c.name not in {"id", "key", "created_at"}]
    rows = session.execute(select(*cols)).mappings()
    return sorted(
        TIMESTAMP.sub("<t>", json.dumps(dict(r), default=str, sort_keys=True)) for r in rows
    )


def _ticket(s: Session, item: OutboxItem) -> Ticket:
    """The ticket a tag write goes to."""
    return s.scalars(
        select(Ticket).where(
            Ticket.source == item.system, Ticket.helpdesk_id == int(item.target_id or 0)
        )
    ).one()


class Book:
    """A runtime on the database under test whose plan stage is checked against the whole book."""

    def __init__(self, sb: Sandbox, url: str, monkeypatch: Any) -> None:
        upgrade(url)
        self.sb, self.url, self.rt = sb, url, Runtime(sandbox_settings(sb.base_url, url))
        self.plans: list[dict[str, Any]] = []
        monkeypatch.setattr(pipeline, "write_back", self._checked)
        # runs here are seconds apart and nothing else writes: without the overlap kept for
        # other writers' open transactions, an unchanged run plans nothing
        monkeypatch.setattr(marks, "MARGIN", dt.timedelta(0))

    def _checked(self, session: Session, config: Any, targets: Any, scope: Any = None,
                 **kw: Any) -> Any:  # fmt: skip
        with self.rt.factory() as whole:  # the whole book, with the sweep: what it must equal
            write_back(whole, config, targets, scope, full="whole book (check)")
            whole.flush()
            want = _outbox(whole)
            whole.rollback()
        summary, info = write_back(session, config, targets, scope, **kw)
        session.flush()
        got = _outbox(session)
        missing, extra = sorted(set(want) - set(got)), sorted(set(got) - set(want))
        assert got == want, f"plan {info}: missing {missing[:3]}, extra {extra[:3]}"
        self.plans.append(info)
        return summary, info

    def pull(self, as_of: dt.date) -> None:
        streams = select_streams(self.rt.connectors.values(), "all")
        pulled = RunReport(run_id=0, dry_run=False)
        pull(self.rt.factory, self.rt.connectors, streams, pulled, reconcile=False,
             start=history_start(as_of))  # fmt: skip
        assert pulled.errors == []

    def run(self, as_of: dt.date, *, push: bool = True, adjust: Any = None) -> dict[str, Any]:
        """Pull, `adjust` (a session), decide (checked) and push; returns the plan's stats."""
        self.pull(as_of)
        if adjust is not None:
            with transaction(self.rt.factory) as s:
                adjust(s)
        run_id = runs.start_run(self.rt.factory, "sync")
        report = self.decide(as_of, run_id)
        record_run(self.rt.factory, report, "succeeded")
        self.plans[-1]["scoring"] = report.incremental.get("reason")
        if push:
            self.rt.drain()
        self.sb.tick(120)  # past the exports' one-minute lag
        return self.plans[-1]

    def decide(self, as_of: dt.date, run_id: int) -> RunReport:
        report = RunReport(run_id=run_id, dry_run=False)
        decide(
            lambda: transaction(self.rt.factory), self.rt.job_config,
            write_targets(self.rt.connectors), report, as_of, stage=lambda name, count=0, detail=None: None,
            systems=action_systems(self.rt.connectors, self.rt.job_config),
        )  # fmt: skip
        return report

    def settle(self, as_of: dt.date) -> dict[str, Any]:
        """Re-run until a run plans no account (the re-syncs read back pulsehub's own writes)."""
        for _ in range(5):
            info = self.run(as_of)
            if info["accounts"] == 0:
                return info
        raise AssertionError(f"unchanged runs kept planning: {self.plans[-5:]}")


@pytest.fixture
def sb():
    with Sandbox(accounts=60, seed=5) as sandbox:
        yield sandbox


def test_incremental_plans_queue_what_whole_book_plans_queue(sb, any_db_url, monkeypatch) -> None:
    book = Book(sb, any_db_url, monkeypatch)
    today = dt.datetime.now(dt.UTC).date()
    first = book.run(today)
    assert first["accounts"] is None  # the first sync: a full score, the whole book
    book.settle(today)
    with book.rt.factory() as s:
        scored = len(
            s.scalars(select(HealthSnapshot.id).where(HealthSnapshot.as_of == today)).all()
        )
        assert scored > 30

    sb.change(0.01, seed=3)  # 1% of every record kind
    changed = book.run(today)
    # 1% of the usage history's rows can touch most accounts of a small book: then the whole
    # book is planned (cheaper than an id list); the override below is the partial case
    assert changed["accounts"] is None or 0 < changed["accounts"] < scored / 2
    book.settle(today)  # the re-syncs read back what the writes it queued moved

    with transaction(book.rt.factory) as s:  # an override turns a green account red
        green = s.scalars(
            select(HealthSnapshot.account_id)
            .where(HealthSnapshot.as_of == today, HealthSnapshot.band == "green")
            .order_by(HealthSnapshot.account_id)
        ).first()
        assert green is not None
        s.add(ScoreOverride(account_id=green, band="red", reason="champion left", author="csm",
                            expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(days=3)))  # fmt: skip
    overridden = book.run(today, push=False)
    assert overridden["accounts"] is not None and overridden["accounts"] >= 1, overridden
    with transaction(book.rt.factory) as s:  # its write is refused for good; another one fails
        items = list(
            s.scalars(
                select(OutboxItem)
                .where(OutboxItem.status == "pending", OutboxItem.kind.in_(outbox.FIELD_KINDS))
                .order_by(OutboxItem.id)
            )
        )
        assert len(items) >= 2
        outbox.record_failure(s, items[0], retriable=False, message="bad value", code="400")
        outbox.record_failure(s, items[-1], retriable=True, message="busy", code="503")
        dead, target = items[0].account_id, items[0].target_id
    book.rt.drain()
    after_dead = book.run(today)  # the dead letter is planned again, as the whole book would
    assert after_dead["accounts"] is not None
    with book.rt.factory() as s:
        again = s.scalars(
            select(OutboxItem.status).where(
                OutboxItem.account_id == dead, OutboxItem.target_id == target
            )
        ).all()
        assert "dead" in again and len(again) >= 2
    book.settle(today)

    book.rt.close()  # the same book under `reassert` (the crm pull reads the owned fields)
    book.rt = Runtime(sandbox_settings(sb.base_url, book.url, writeback_policy="reassert"))
    # a configuration change: the whole book
    assert "configuration changed" in book.run(today)["reason"]
    book.settle(today)
    written = next(w for w in reversed(sb.writes) if w["kind"] == "account_fields"
                   and "Health_Status__c" in w["changes"])  # fmt: skip
    crm_id, status = written["target_id"], written["changes"]["Health_Status__c"]
    edited = "Green" if status != "Green" else "Red"
    book.rt.connectors["salesforce"].sf.Account.update(crm_id, {"Health_Status__c": edited})
    before = len(sb.writes)
    reasserted = book.run(today)
    assert reasserted["accounts"] is not None and reasserted["accounts"] >= 1
    assert any(
        w["target_id"] == crm_id and w["changes"].get("Health_Status__c") == status
        for w in sb.writes[before:]
    )
    book.settle(today)

    # a run killed after scoring (an override set): the next run plans what it left
    with transaction(book.rt.factory) as s:
        s.add(ScoreOverride(account_id=green, band="yellow", reason="sponsor back", author="csm",
                            expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(days=3)))  # fmt: skip

    def die(name: str) -> None:
        if name == "after_score":
            raise Killed(name)

    book.pull(today)
    with monkeypatch.context() as m:
        m.setattr(pipeline, "crash_point", die)
        with pytest.raises(Killed):
            book.decide(today, runs.start_run(book.rt.factory, "sync"))
    caught_up = book.run(today)
    assert caught_up["accounts"] is not None and caught_up["accounts"] >= 1

    cfg = book.rt.job_config  # a scorecard change re-scores everyone: the whole book
    cfg.scorecard = cfg.scorecard.model_copy(update={"max_reasons": 2})
    # ... and, its written state lost, queues every target again: writes of every kind pending
    forget = book.run(today, push=False, adjust=lambda s: s.execute(delete(WrittenState)))
    assert forget["reason"] == "whole book: full score"

    cut: dict[str, int] = {}

    def targets_leave(s: Session) -> None:
        """With writes pending (not pushed): an account is deleted, a ticket is closed, and a
        ticket moves to an organization no account is linked to (so the ticket itself names
        no account any more). Their pending writes are no longer wanted."""
        pending = s.scalars(
            select(OutboxItem)
            .where(OutboxItem.status == "pending", OutboxItem.kind.in_(outbox.FIELD_KINDS))
            .order_by(OutboxItem.id.desc())
        ).all()
        acc = next(i for i in pending if i.kind == "crm_account_fields")
        closed, moved = [i for i in pending if i.kind == "helpdesk_ticket_tags"][:2]
        account = s.get(Account, acc.account_id)
        assert account is not None
        account.is_deleted = True
        _ticket(s, closed).status = "closed"
        _ticket(s, moved).helpdesk_org_id, _ticket(s, moved).account_id = 987654321, None
        cut.update(acc=acc.id, closed=closed.id, moved=moved.id)

    left = book.run(today, adjust=targets_leave)
    assert left["accounts"] is not None
    with book.rt.factory() as s:
        gone = select(OutboxItem.status).where(OutboxItem.id.in_(list(cut.values())))
        assert set(s.scalars(gone)) == {"superseded"}
    book.settle(today)

    sb.advance(1)
    tomorrow = today + dt.timedelta(days=1)
    assert book.run(tomorrow)["accounts"] is None  # the day's first plan
    book.settle(tomorrow)
    book.rt.close()
