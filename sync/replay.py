"""The first run's history replay, one committed week at a time, resumable.

With no snapshot before the run's day, the first complete run replays `backfill_weeks`
weekly snapshots from the pulled data (so trends, sharp drops, the audit and escalation lead
times work from the first day) and fits renewal risk on them when they hold enough outcomes.

At 50,000 accounts each replayed week takes minutes; in one transaction, a stopped run lost
all of it and PostgreSQL planned every query of the replay on statistics that still called
the snapshot table empty (rows not yet committed). So each week commits with a mark
(`scoring.replay` in the cursor table: the grid and the last week done); a later run that
finds an unfinished mark goes on from the week after it, on the same grid, before anything
else is scored, and the fit runs once every week is in. A dry run's `open_session` hands out
its one rolled-back session: nothing of it stays.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from model import marks
from model.stats import analyze_stale
from model.tables import HealthSnapshot

if TYPE_CHECKING:
    from scoring.config import Scorecard

log = logging.getLogger(__name__)

MARK = "scoring.replay"
OpenSession = Callable[[], AbstractContextManager[Session]]
# told before each replayed week: (its number from 1, the weeks left to replay, its day)
OnWeek = Callable[[int, int, dt.date], None]


@dataclass(frozen=True)
class ReplayMark:
    """The replay's grid (`start`..`end`, every `step` days, ISO dates), the last day whose
    snapshots committed (`through`, None: none yet) and whether the fit after it ran."""

    start: str
    end: str
    step: int = 7
    through: str | None = None
    done: bool = False

    def days(self) -> list[dt.date]:
        """The grid's days still to replay, oldest first."""
        day, end = dt.date.fromisoformat(self.start), dt.date.fromisoformat(self.end)
        after = dt.date.fromisoformat(self.through) if self.through else None
        out = []
        while day <= end:
            if after is None or day > after:
                out.append(day)
            day += dt.timedelta(days=self.step)
        return out


def replay_history(
    open_session: OpenSession,
    as_of: dt.date,
    weeks: int,
    card: Scorecard,
    on_week: OnWeek | None = None,
) -> int:
    """Replay history (or finish a replay a stopped run began), a committed week at a time;
    then fit renewal risk when the history holds enough outcomes. `on_week` is told of each
    week as it starts (a run's heartbeat: at 50,000 accounts a week is about a minute).
    Returns the snapshots written."""
    if weeks <= 0:
        return 0
    with open_session() as session:
        mark = _plan(session, as_of, weeks)
    if mark is None:
        return 0
    # imported only now: scikit-learn and scipy cost every later run 3 s and 90 MiB for nothing
    from scoring.risk_store import refit_if_due
    from scoring.service import score_all

    written, todo = 0, mark.days()
    for number, day in enumerate(todo, start=1):
        if on_week is not None:
            on_week(number, len(todo), day)
        with open_session() as session:  # the week and its place in the grid commit together
            written += sum(score_all(session, day, card).values())
            mark = dataclasses.replace(mark, through=day.isoformat())
            marks.save_mark(session, MARK, mark)
        with open_session() as session:  # the next week's queries read these snapshots
            analyze_stale(session)
        log.info("history replay: %s done (%s..%s)", day, mark.start, mark.end)
    with open_session() as session:  # enough outcomes: fit risk, and band cut-offs beside it
        version = refit_if_due(session, card.risk.horizon_days, band_fit=card.bands.fit)
        marks.save_mark(session, MARK, dataclasses.replace(mark, done=True))
    if version is not None:
        log.info("first run: renewal-risk model v%s fitted on the replayed history", version)
    log.info("first run: replayed %s snapshots since %s", written, mark.start)
    return written


def _plan(session: Session, as_of: dt.date, weeks: int) -> ReplayMark | None:
    """The replay to run: an unfinished one's mark, a new one's (saved now, so a run stopped
    in its first week still finds it), or None when history exists or the replay is done."""
    mark = marks.read_mark(session, MARK, ReplayMark)
    if mark is not None:
        return None if mark.done else mark
    if session.execute(select(exists().where(HealthSnapshot.as_of < as_of))).scalar():
        return None  # scored over time, or replayed before replays kept a mark
    start = as_of - dt.timedelta(weeks=weeks)
    mark = ReplayMark(start.isoformat(), (as_of - dt.timedelta(days=7)).isoformat())
    marks.save_mark(session, MARK, mark)
    return mark
