"""The account list (filtered, sorted, paged in SQL), one account's drill-down, and finding one by name."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, not_, or_, select
from sqlalchemy.orm import Session

from model.lifecycle import CHURNED, CUSTOMER, churned_on, status_on
from model.tables import (
    Account,
    Escalation,
    ExternalIdentity,
    HealthSnapshot,
    ScoreOverride,
    Ticket,
    UsageDaily,
    WrittenState,
    utcnow,
)
from reporting.common import as_of_day, latest_snapshots

PAGE_SIZE = 100
HISTORY_DAYS = 180
SORTS = {"name", "arr", "score", "renewal_date", "band", "risk", "segment", "owner"}


@dataclass
class AccountPage:
    rows: list[dict[str, Any]]
    total: int
    page: int
    pages: int


def list_accounts(
    session: Session,
    *,
    q: str = "",
    band: str = "",
    segment: str = "",
    sort: str = "arr",
    desc: bool = True,
    page: int = 1,
    page_size: int | None = PAGE_SIZE,
    renews_within: int = 0,
) -> AccountPage:
    """One page of accounts with their latest health; filters and sort run in the database.
    `page_size=None`: every matching account on one page (the CSV export).

    A churned account's row carries `status` "churned": its last band is history, so the band
    filters leave it out and `band="churned"` lists those accounts."""
    latest = latest_snapshots()
    day = as_of_day(session)
    cols = {
        "name": Account.name, "arr": Account.arr, "score": latest.c.score,
        "renewal_date": Account.renewal_date, "band": latest.c.band,
        "risk": latest.c.renewal_risk, "segment": Account.segment, "owner": Account.owner_name,
    }  # fmt: skip
    base = (
        select(Account.id, Account.name, Account.segment, Account.tier, Account.arr,
               Account.renewal_date, Account.owner_name, latest.c.band, latest.c.score,
               latest.c.trend_28d, latest.c.risk_level, latest.c.renewal_risk,
               status_on(day).label("status"))
        .outerjoin(latest, latest.c.account_id == Account.id)
        .where(Account.is_deleted.is_(False))
    )  # fmt: skip
    if q:
        like = f"%{q.lower()}%"
        base = base.where(
            or_(func.lower(Account.name).like(like), func.lower(Account.owner_name).like(like))
        )
    if band == CHURNED:
        base = base.where(churned_on(day))
    elif band:
        band_is = latest.c.band.is_(None) if band == "unscored" else latest.c.band == band
        base = base.where(band_is, not_(churned_on(day)))
    if segment:
        base = base.where(Account.segment == segment)
    if renews_within > 0:  # current customers renewing in the next N days, as the overview counts
        base = base.where(
            Account.renewal_date >= day,
            Account.renewal_date <= day + dt.timedelta(days=renews_within),
            not_(churned_on(day)),
        )
    total = int(session.scalar(select(func.count()).select_from(base.subquery())) or 0)
    col = cols.get(sort, Account.arr)
    ordered = col.desc().nulls_last() if desc else col.asc().nulls_last()
    size = page_size or max(1, total)
    pages = max(1, -(-total // size))
    page = min(max(1, page), pages)
    rows = session.execute(base.order_by(ordered, Account.id).offset((page - 1) * size).limit(size))
    return AccountPage([dict(r._mapping) for r in rows], total, page, pages)


def segments(session: Session) -> list[str]:
    return [
        s
        for s in session.scalars(select(Account.segment).distinct().order_by(Account.segment))
        if s
    ]


@dataclass
class AccountDetail:
    account: Account
    latest: HealthSnapshot | None
    history: list[tuple[dt.date, float | None, str]]
    tickets: list[Ticket]
    ticket_counts: dict[str, int]
    escalations: list[Escalation]
    identities: list[ExternalIdentity]
    written: list[WrittenState]
    overrides: list[ScoreOverride]
    usage: list[tuple[dt.date, int]]
    parent: Account | None
    status: str = CUSTOMER  # model.lifecycle: customer | churned | not_yet_customer


def load_account(session: Session, account_id: int) -> AccountDetail | None:
    acc = session.get(Account, account_id)
    if acc is None:
        return None
    latest = session.scalars(
        select(HealthSnapshot)
        .where(HealthSnapshot.account_id == account_id)
        .order_by(HealthSnapshot.as_of.desc())
        .limit(1)
    ).first()
    since = (latest.as_of if latest else utcnow().date()) - dt.timedelta(days=HISTORY_DAYS)
    history = [
        (d, s, b)
        for d, s, b in session.execute(
            select(HealthSnapshot.as_of, HealthSnapshot.score, HealthSnapshot.band)
            .where(HealthSnapshot.account_id == account_id, HealthSnapshot.as_of >= since)
            .order_by(HealthSnapshot.as_of)
        )
    ]
    tickets = list(session.scalars(
        select(Ticket).where(Ticket.account_id == account_id).order_by(Ticket.created_at.desc()).limit(50)
    ))  # fmt: skip
    counts = dict(
        session.execute(  # type: ignore[arg-type]
            select(Ticket.status, func.count()).where(Ticket.account_id == account_id).group_by(Ticket.status)
        ).all()
    )  # fmt: skip
    escalations = list(session.scalars(
        select(Escalation).where(Escalation.account_id == account_id).order_by(Escalation.opened_at.desc()).limit(50)
    ))  # fmt: skip
    identities = list(session.scalars(
        select(ExternalIdentity).where(ExternalIdentity.account_id == account_id)
        .order_by(ExternalIdentity.source, ExternalIdentity.external_id)
    ))  # fmt: skip
    written = _written_state(session, acc, identities, tickets)
    overrides = list(session.scalars(
        select(ScoreOverride).where(ScoreOverride.account_id == account_id).order_by(ScoreOverride.created_at.desc()).limit(20)
    ))  # fmt: skip
    usage = [
        (d, int(au or 0))
        for d, au in session.execute(
            select(UsageDaily.day, func.sum(UsageDaily.active_users))
            .where(
                UsageDaily.account_id == account_id,
                UsageDaily.day >= since,
                UsageDaily.day < utcnow().date(),  # today's row is partial: not a drop to 0
            )
            .group_by(UsageDaily.day)
            .order_by(UsageDaily.day)
        )
    ]
    parent = session.get(Account, acc.parent_id) if acc.parent_id else None
    status = session.scalar(select(status_on(as_of_day(session))).where(Account.id == account_id))
    return AccountDetail(acc, latest, history, tickets, counts, escalations, identities,
                         written, overrides, usage, parent, status or CUSTOMER)  # fmt: skip


def _written_state(
    session: Session, acc: Account, identities: list[ExternalIdentity], tickets: list[Ticket]
) -> list[WrittenState]:
    """What pulsehub last wrote to this account's records, in every source holding one
    (written state is kept under the source's name; ids repeat across instances)."""
    targets = []
    if acc.crm_id and acc.crm_source:
        targets.append((acc.crm_source, "account", acc.crm_id))
    targets += [(i.source, "organization", i.external_id) for i in identities if i.kind == "organization"]  # fmt: skip
    targets += [(t.source, "ticket", str(t.helpdesk_id)) for t in tickets]
    if not targets:
        return []
    conds = [
        (WrittenState.system == s) & (WrittenState.target_kind == k) & (WrittenState.target_id == t)
        for s, k, t in targets
    ]
    return list(session.scalars(
        select(WrittenState).where(or_(*conds))
        .order_by(WrittenState.system, WrittenState.target_kind, WrittenState.target_id, WrittenState.field)
    ))  # fmt: skip


def find_account(session: Session, text: str) -> tuple[int | None, str]:
    """An account from what a person typed: its id, or its name (case-insensitive, exact, or
    the only name containing it); (None, why) when that names none or several."""
    text = text.strip().lstrip("#")
    if text.isdigit():
        return (int(text), "") if session.get(Account, int(text)) else (None, f"no account {text}")
    live = select(Account.id, Account.name).where(Account.is_deleted.is_(False))
    exact = session.execute(live.where(func.lower(Account.name) == text.lower())).all()
    hits = (
        exact
        or session.execute(
            live.where(func.lower(Account.name).like(f"%{text.lower()}%")).limit(6)
        ).all()
    )
    if len(hits) == 1:
        return int(hits[0][0]), ""
    if not hits:
        return None, f"no account named like {text!r}"
    names = ", ".join(f"{name} (#{aid})" for aid, name in hits[:5])
    return None, f"{text!r} matches several accounts: {names}; give the full name or the id"


def latest_snapshot(session: Session, account_id: int) -> HealthSnapshot | None:
    """An account's newest health snapshot, if it was ever scored."""
    return session.scalars(
        select(HealthSnapshot)
        .where(HealthSnapshot.account_id == account_id)
        .order_by(HealthSnapshot.as_of.desc())
        .limit(1)
    ).first()
