"""What the write-back planner reads: the newest snapshots a batch at a time, the records
each write kind targets, and what pulsehub last wrote to them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from model.crm_accounts import CRM_ACCOUNT, OWNER
from model.tables import Account, ExternalIdentity, HealthSnapshot, WrittenState
from scoring.health import BAND_CUTOFFS_KEY, NEAR_REASONS_KEY
from scoring.risk_model import NEAR_DRIVERS

IN_BATCH = 900  # ids per IN (...) lookup, under every backend's bound-parameter limit
# (target record id, account id, the record as last pulled)
Found = Sequence[tuple[str, int | None, Mapping[str, Any] | None]]


def newest_day(session: Session) -> dt.date | None:
    return session.execute(select(func.max(HealthSnapshot.as_of))).scalar()


def written(
    session: Session, system: str, kind: str, targets: Iterable[str]
) -> dict[str, dict[str, str | None]]:
    """What pulsehub last wrote to each of `targets` (one chunk's, looked up in IN batches)."""
    out: dict[str, dict[str, str | None]] = {}
    ids = list(targets)
    for start in range(0, len(ids), IN_BATCH):
        rows = session.execute(
            select(WrittenState.target_id, WrittenState.field, WrittenState.value).where(
                WrittenState.system == system,
                WrittenState.target_kind == kind,
                WrittenState.target_id.in_(ids[start : start + IN_BATCH]),
            )
        )
        for target, fld, value in rows:
            out.setdefault(target, {})[fld] = value
    return out


# the snapshot's signals the plan reads (the dead-band's near reasons and drivers, and the
# band cut-offs); the rest, ~60 values an account, stay in the database
PLANNED_SIGNALS = (NEAR_REASONS_KEY, NEAR_DRIVERS, BAND_CUTOFFS_KEY)


@dataclass(frozen=True, slots=True)
class PlanSnapshot:
    """What the write-back plan reads of an account's newest snapshot: its written values and,
    of its signals, only `PLANNED_SIGNALS`. (Whole ORM snapshots, every signal decoded, were
    most of the plan's memory: ~40 MiB of JSON for a 2,000-account chunk.)"""

    account_id: int
    score: float | None
    band: str
    trend_28d: float | None
    reasons: list[Any] | None
    renewal_risk: float | None
    risk_level: str | None
    risk_drivers: list[Any] | None
    signals: dict[str, Any]


_PLAN_COLUMNS = (
    HealthSnapshot.account_id, HealthSnapshot.score, HealthSnapshot.band,
    HealthSnapshot.trend_28d, HealthSnapshot.reasons, HealthSnapshot.renewal_risk,
    HealthSnapshot.risk_level, HealthSnapshot.risk_drivers,
    *(HealthSnapshot.signals[key] for key in PLANNED_SIGNALS),
)  # fmt: skip


def _plan_snapshot(row: Sequence[Any]) -> PlanSnapshot:
    aid, score, band, trend, reasons, risk, level, drivers, *picked = row
    signals = {k: v for k, v in zip(PLANNED_SIGNALS, picked, strict=True) if v is not None}
    return PlanSnapshot(aid, score, band, trend, reasons, risk, level, drivers, signals)


def snapshot_batches(
    session: Session, newest: dt.date, scope: Sequence[int] | None, chunk_size: int
) -> Iterator[list[PlanSnapshot]]:
    """The newest day's snapshots in account-id order, a batch at a time (a batch is let go
    before the next is read)."""
    base = select(*_PLAN_COLUMNS).where(HealthSnapshot.as_of == newest)
    order = HealthSnapshot.account_id
    if scope is not None:
        ids = sorted(set(scope))
        for start in range(0, len(ids), IN_BATCH):
            stmt = base.where(HealthSnapshot.account_id.in_(ids[start : start + IN_BATCH]))
            if rows := [_plan_snapshot(r) for r in session.execute(stmt.order_by(order))]:
                yield rows
            del rows
        return
    after: int | None = None
    while True:
        stmt = base if after is None else base.where(HealthSnapshot.account_id > after)
        rows = [_plan_snapshot(r) for r in session.execute(stmt.order_by(order).limit(chunk_size))]
        if not rows:
            return
        after = rows[-1].account_id
        yield rows
        del rows


def _among(column: Any, ids: Sequence[int] | None) -> list[Any]:
    """`column IN ids` when a plan covers some accounts only (`ids`: at most IN_BATCH, one
    chunk's): a sparse scope's id range spans the book, its list does not."""
    return [] if ids is None else [column.in_(list(ids))]


def account_targets(
    session: Session, source: str, lo: int, hi: int, ids: Sequence[int] | None = None
) -> Found:
    """(crm record id, account id, the pulled record) of live accounts `source` holds
    (`ids`: only these accounts of the range)."""
    return session.execute(  # type: ignore[return-value]
        select(Account.crm_id, Account.id, Account.attributes).where(
            Account.id.between(lo, hi),
            Account.crm_source == source,
            Account.crm_id.is_not(None),
            Account.is_deleted.is_(False),
            *_among(Account.id, ids),
        )
    ).all()


def organization_targets(
    session: Session, source: str, lo: int, hi: int, ids: Sequence[int] | None = None
) -> Found:
    """(organization id, account id, the pulled record) of linked helpdesk organizations."""
    return session.execute(  # type: ignore[return-value]
        select(
            ExternalIdentity.external_id, ExternalIdentity.account_id, ExternalIdentity.attributes
        ).where(
            ExternalIdentity.source == source,
            ExternalIdentity.status == "linked",
            ExternalIdentity.is_deleted.is_(False),
            ExternalIdentity.account_id.between(lo, hi),
            *_among(ExternalIdentity.account_id, ids),
        )
    ).all()


def crm_account_targets(
    session: Session, source: str, lo: int, hi: int, ids: Sequence[int] | None = None
) -> Found:
    """(record id, account id, the pulled record's fields) of a secondary crm source's
    accounts linked to a canonical account of another source (model/crm_accounts.py): the
    same customer's record in that org gets the same fields."""
    rows = session.execute(
        select(
            ExternalIdentity.external_id, ExternalIdentity.account_id, ExternalIdentity.attributes
        ).where(
            ExternalIdentity.source == source,
            ExternalIdentity.kind == CRM_ACCOUNT,
            ExternalIdentity.status == "linked",
            ExternalIdentity.method != OWNER,
            ExternalIdentity.is_deleted.is_(False),
            ExternalIdentity.account_id.between(lo, hi),
            *_among(ExternalIdentity.account_id, ids),
        )
    ).all()
    return [
        (ext, acc, (attrs or {}).get("account", {}).get("attributes")) for ext, acc, attrs in rows
    ]
