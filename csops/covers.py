"""Out-of-office cover: who receives an owner's new tasks on a day (the owner when uncovered)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from model.tables import CsmCover


def active_covers(session: Session, day: dt.date) -> dict[str, str]:
    """Owner crm id -> covering crm id for covers in force on `day` (the newest cover wins)."""
    rows = session.execute(
        select(CsmCover.owner_crm_id, CsmCover.cover_crm_id)
        .where(CsmCover.starts_on <= day, CsmCover.ends_on >= day)
        .order_by(CsmCover.id)
    ).all()
    return {owner: cover for owner, cover in rows}


def route_owner(covers: dict[str, str], owner: str | None) -> str | None:
    """The owner's cover when one is in force (a cover who is away too passes it on, once)."""
    if owner is None:
        return None
    cover = covers.get(owner, owner)
    return covers.get(cover, cover) if cover != owner else owner


class CoverError(ValueError):
    """A cover that cannot be stored as given (the message says how to fix it)."""


def add_cover(
    session: Session,
    owner: str,
    cover: str,
    starts_on: dt.date,
    ends_on: dt.date,
    note: str | None = None,
) -> CsmCover:
    """Store a cover; ranges are whole days, both included."""
    if owner == cover:
        raise CoverError("the cover must be someone other than the owner")
    if ends_on < starts_on:
        raise CoverError(f"--to {ends_on} is before --from {starts_on}: swap them")
    for name, value in (("OWNER", owner), ("COVER", cover)):
        if not value.isalnum() or len(value) > 18:
            raise CoverError(f"{name} {value!r} is not a crm user id (letters and digits, ≤ 18)")
    row = CsmCover(
        owner_crm_id=owner, cover_crm_id=cover, starts_on=starts_on, ends_on=ends_on, note=note
    )
    session.add(row)
    session.flush()
    return row


def end_cover(session: Session, cover_id: int, day: dt.date) -> CsmCover:
    """End a cover early: it is in force through the day before `day`."""
    row = session.get(CsmCover, cover_id)
    if row is None:
        raise CoverError(f"no cover {cover_id}: `pulsehub cover list` shows them")
    row.ends_on = min(row.ends_on, day - dt.timedelta(days=1))
    return row


def upcoming_covers(session: Session, day: dt.date) -> list[CsmCover]:
    """Covers in force on `day` or later, soonest first."""
    return list(
        session.execute(
            select(CsmCover).where(CsmCover.ends_on >= day).order_by(CsmCover.starts_on)
        ).scalars()
    )
