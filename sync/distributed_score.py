"""Scoring split across workers, proportional to change as the single-process run's is.

After identity resolution, `plan` asks the single-process run's question (sync/stages.py
`plan_scoring`: every live account's inputs digest, stored and committed, against the
digests on the day's snapshots) and cuts the answer into tasks. A full pass (the day's first
run, a configuration or model change, more than half the book changed) cuts the account ids
into ranges; an incremental run cuts only the accounts to re-score into lists; an unchanged
run has no task at all.

No task holds a parent. A parent's roll-up reads its children's stored snapshots, and a
child may sit in another task still writing them, so the finish stage rolls the plan's
parents up once every task has committed (`score_parents`), as the single-process full pass
re-rolls its parents last; a run stopped between the two leaves parents whose snapshot is
older than a child's, and the next plan rolls them up (`stale_parents`). The plan is kept in the run's stats (`score_plan`), so the finish
stage, or its redelivery after a crash, acts on committed state, not on a message.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from model.tables import Account, HealthSnapshot
from scoring.digest_marks import StoredDigests
from scoring.store import parent_ids
from sync.stages import JobConfig, plan_scoring

ScoreTask = tuple[int, int, list[int] | None]  # (lo, hi, ids): ids None is every id in lo..hi


@dataclass(frozen=True)
class ScorePlan:
    """`tasks` for the workers; `parents` to roll up at the finish (None: every parent);
    `full`: the whole book is re-scored (escalation then judges everyone, the write-back
    plans the whole book); `info`: why, for the run's stats."""

    tasks: list[ScoreTask]
    parents: list[int] | None
    full: bool
    info: dict[str, Any]

    def stats(self) -> dict[str, Any]:
        return {"full": self.full, "parents": self.parents, "tasks": len(self.tasks)}


def plan(session: Session, as_of: dt.date, config: JobConfig, range_size: int) -> ScorePlan:
    """What the scoring tasks do; stores every live account's inputs digest in the caller's
    transaction (committed before any task starts)."""
    r = plan_scoring(session, as_of, config, dt.datetime.now(dt.UTC))
    info: dict[str, Any] = {"reason": r.reason, "digested": r.digested}
    if r.scope is None:
        lo, hi = session.execute(select(func.min(Account.id), func.max(Account.id))).one()
        ranges = [] if lo is None else range(lo, hi + 1, range_size)
        tasks: list[ScoreTask] = [(a, min(a + range_size - 1, hi), None) for a in ranges]
        return ScorePlan(tasks, None, True, info)
    parents = set(parent_ids(session))
    leaves = [a for a in r.scope if a not in parents]
    chunks = [leaves[i : i + range_size] for i in range(0, len(leaves), range_size)]
    behind = stale_parents(session, as_of)
    info.update(rescored=len(r.scope), parents_behind=len(behind))
    tasks = [(c[0], c[-1], c) for c in chunks]
    return ScorePlan(tasks, sorted(parents.intersection(r.scope) | behind), False, info)


def stale_parents(session: Session, as_of: dt.date) -> set[int]:
    """Parents whose snapshot of the day is older than one of their children's: a run
    stopped between its scoring tasks and its finish left their roll-up undone (their own
    inputs digest did not change, so nothing else would bring them back before tomorrow)."""
    parent, child = aliased(HealthSnapshot), aliased(HealthSnapshot)
    q = (
        select(parent.account_id)
        .join(Account, Account.parent_id == parent.account_id)
        .join(child, (child.account_id == Account.id) & (child.as_of == parent.as_of))
        .where(parent.as_of == as_of, Account.is_deleted.is_(False))
        .where(child.computed_at > parent.computed_at)
        .distinct()
    )
    return set(session.scalars(q))


def score_task(
    session: Session, as_of: dt.date, config: JobConfig, lo: int, hi: int, ids: list[int] | None
) -> int:
    """Score one task's accounts (parents left to the finish) with the digests the plan
    stored; returns how many were scored."""
    if ids is None:
        ids = list(session.scalars(select(Account.id).where(Account.id.between(lo, hi))))
    parents = set(parent_ids(session))
    return _score(session, as_of, config, [a for a in ids if a not in parents])


def score_parents(
    session: Session, as_of: dt.date, config: JobConfig, parents: list[int] | None
) -> int:
    """Roll the plan's parents up over their children's committed snapshots (None: every
    parent of the book); returns how many were scored."""
    return _score(session, as_of, config, parent_ids(session) if parents is None else parents)


def _score(session: Session, as_of: dt.date, config: JobConfig, ids: list[int]) -> int:
    from scoring.service import current_risk_model, score_accounts

    if not ids:
        return 0
    model = current_risk_model(session, config.scorecard)
    snaps = score_accounts(
        session, as_of, config.scorecard, ids, risk_model=model, digests=StoredDigests()
    )  # the digests the plan stored
    return len(snaps)


def judged_by_escalation(
    session: Session, as_of: dt.date, config: JobConfig, full: bool
) -> tuple[list[int] | None, StoredDigests, dict[str, Any]]:
    """The accounts escalation re-evaluates (None: all of them), every live account's stored
    inputs digest, and what to keep in the run's stats: escalation/scope.py, with this run's
    re-scored accounts found as the snapshots written since the last completed run."""
    from escalation.scope import book_digest, escalation_scope

    digests = StoredDigests()
    if config.rules is None:
        return None, digests, {}
    if full:
        return None, digests, {"book": book_digest(session, as_of, config.rules)}
    now = dt.datetime.now(dt.UTC)
    judged, why = escalation_scope(session, as_of, now, config.rules, ())
    return sorted(judged), digests, dict(why)
