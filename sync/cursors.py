"""Stream cursors: read and saved inside the caller's transaction, next to the data they cover."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from model.tables import SyncCursor, utcnow
from model.upsert import upsert_rows


def get_cursor(session: Session, stream: str) -> str | None:
    return session.execute(
        select(SyncCursor.value).where(SyncCursor.stream == stream)
    ).scalar_one_or_none()


def save_cursor(session: Session, stream: str, value: str | None) -> None:
    upsert_rows(
        session,
        SyncCursor.__table__,  # type: ignore[arg-type]
        [{"stream": stream, "value": value, "updated_at": utcnow()}],
        key=["stream"],
    )


def reset_cursors(session: Session, prefix: str = "") -> int:
    """Forget cursors (a full resync); returns how many were cleared."""
    rows = session.execute(select(SyncCursor).where(SyncCursor.stream.startswith(prefix))).scalars()
    n = 0
    for row in rows:
        session.delete(row)
        n += 1
    return n
