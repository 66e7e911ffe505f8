"""Change marks for the stages that run after scoring (onboarding and handoffs, reviews): what
the last committed run of the stage covered, so a later run looks only at what changed since.

A mark is a sync cursor (`sync/cursors.py`) saved in the stage's own transaction, with the
rows and outbox creations it decided: a dry run (rolled back) or a run killed before its
commit leaves the last committed mark in place, so the next run starts from there and misses
nothing. `reset_cursors` (a full resync) forgets it: the next run looks at the whole book.

Rows other processes write while a stage reads (webhook refreshes, a reviewer's edit, the
outbox drain) are compared with the mark less the marks' margin (model/marks.py): a change
stamped just before the last run read but committed after it is looked at again, not missed. Looking at an account twice
is harmless: every stage that keeps a mark decides idempotently (same rows, keyed tasks).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from pydantic import BaseModel
from sqlalchemy.orm import Session

from model import marks


@dataclass(frozen=True)
class StageMark:
    """`day`: the day the stage decided for; `config`: a digest of its configuration;
    `basis`: what else every answer rests on (the snapshot day read, the quarter); `at`:
    when the stage started reading (ISO)."""

    day: str
    config: str
    basis: str
    at: str

    def covers(self, later: StageMark) -> bool:
        """Whether a run marked `later` may look only at changes since this mark: same day,
        configuration and basis (a new day crosses the day-based rules for everyone)."""
        return (self.day, self.config, self.basis) == (later.day, later.config, later.basis)

    @property
    def since(self) -> dt.datetime:
        """Rows stamped after this moment may be unseen by the marked run."""
        return marks.watermark(dt.datetime.fromisoformat(self.at))


def config_digest(*parts: BaseModel | str) -> str:
    """A digest of the configuration a stage's answers depend on (and a version string)."""
    text = "\n".join(p if isinstance(p, str) else p.model_dump_json() for p in parts)
    return hashlib.sha256(text.encode()).hexdigest()


def read_mark(session: Session, stream: str) -> StageMark | None:
    return marks.read_mark(session, stream, StageMark)  # None: look at the whole book


def save_mark(session: Session, stream: str, mark: StageMark) -> None:
    marks.save_mark(session, stream, mark)


def previous(session: Session, stream: str, mark: StageMark) -> StageMark | None:
    """The last committed mark when it covers `mark` (look at changes since it), else None
    (look at the whole book)."""
    last = read_mark(session, stream)
    return last if last is not None and last.covers(mark) else None
