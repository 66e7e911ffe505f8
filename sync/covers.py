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
