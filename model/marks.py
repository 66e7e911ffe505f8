"""Change marks: what the last committed run of a stage covered (a day, a configuration key, a
watermark...), kept as one JSON record per stream in the sync cursor table.

A mark is saved in the stage's own transaction, with what the stage decided: a dry run
(rolled back) or a run killed before its commit leaves the last committed mark, so the next
run starts from there and misses nothing; `reset_cursors` (a full resync) forgets it. Every
stage that follows change (the inputs digest, identity resolution, the write-back plan, the
voice matches and evaluation, onboarding and reviews) keeps its mark here, so the layers
below sync (model, scoring, reporting) can too.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from model.tables import SyncCursor, utcnow
from model.upsert import upsert_rows

M = TypeVar("M")


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
