"""Change marks: what the last committed run of a stage covered (a day, a configuration key, a
watermark...), kept as one JSON record per stream in the sync cursor table.

A mark is saved in the stage's own transaction, with what the stage decided: a dry run
(rolled back) or a run killed before its commit leaves the last committed mark, so the next
run starts from there and misses nothing; `reset_cursors` (a full resync) forgets it. Every
stage that follows change (the inputs digest, identity resolution, the write-back plan, the
voice matches and evaluation, onboarding and reviews) keeps its mark here, so the layers
below sync (model, scoring, reporting) can too.

A mark's watermark is the wall clock when the stage started reading less `MARGIN`, one margin
for every stage: rows are stamped by their writers before their transaction commits (a pull
page maps its rows, then upserts them; the outbox drain stamps a batch, then commits), so a row
stamped a little before a stage read can be committed after it. A writer whose
stamp-to-commit delay (or clock skew between workers) exceeds the margin could be missed until
the next whole-book pass; a wider margin only re-reads the rows changed within it once more,
which every stage that keeps a mark tolerates (it decides idempotently).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from model.tables import SyncCursor, utcnow
from model.upsert import upsert_rows

M = TypeVar("M")
MARGIN = dt.timedelta(seconds=60)  # >> any writer's stamp-to-commit time and workers' skew


def watermark(started: dt.datetime) -> dt.datetime:
    """What a later run compares change stamps with, for a stage that started reading at
    `started` (see above)."""
    return started - MARGIN


def read_mark(session: Session, stream: str, kind: type[M]) -> M | None:
    """The last committed mark of `stream` as a `kind` dataclass; None when there is none or
    it was written by another version (the caller then does its whole-book pass)."""
    text = session.scalar(select(SyncCursor.value).where(SyncCursor.stream == stream))
    if not text:
        return None
    try:
        return kind(**json.loads(text))
    except (TypeError, ValueError):
        return None


def save_mark(session: Session, stream: str, mark: Any) -> None:
    """Save `mark` (a dataclass) as `stream`'s record, in the caller's transaction."""
    value = json.dumps(asdict(mark), sort_keys=True)
    row = {"stream": stream, "value": value, "updated_at": utcnow()}
    upsert_rows(session, SyncCursor.__table__, [row], key=["stream"])  # type: ignore[arg-type]
