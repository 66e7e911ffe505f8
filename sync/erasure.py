"""Erase one account (a data-deletion request) and lift an erasure (relink).

`erase_account` deletes every row about the account (`model.account_rows`), detaches its
child accounts, records the external keys it was known by as erased (the suppression list
the pull checks, `sync.suppression`), drops the repeated-issue rule's kept days of the book's
topic mix (word counts of every account's ticket subjects, this one's among them: derived,
re-counted from the remaining tickets by the next run that needs them), and writes an audit
line: who, when, how many rows per table — no names, no emails, no ids from the source systems. Run it in a transaction the
caller rolls back for a dry run: the counts are then what a real run would delete.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from model.account_rows import AUDIT_TABLES, account_keys, account_tables
from model.tables import Account, BookMixDay, DataRequest, ErasedKey, utcnow


class NothingToErase(LookupError):
    """The account does not exist (any more)."""


@dataclass
class Erasure:
    """What an erasure deleted (or, in a dry run, would delete)."""

    request_id: int
    account_id: int
    rows: dict[str, int] = field(default_factory=dict)  # table -> rows deleted
    erased_keys: int = 0
    detached_children: int = 0
    mix_days_dropped: int = 0  # derived rows mixing every account's tickets, not in `rows`

    @property
    def total(self) -> int:
        return sum(self.rows.values())


def erase_account(session: Session, account_id: int, actor: str) -> Erasure:
    """Delete everything about `account_id`, suppress its keys, audit it (caller commits)."""
    if session.get(Account, account_id) is None:
        raise NothingToErase(f"no account {account_id}")
    keys = account_keys(session, account_id)
    request = DataRequest(kind="delete", account_id=account_id, actor=actor, counts={})
    session.add(request)
    session.flush()
    result = Erasure(request.id, account_id)
    result.detached_children = (
        session.execute(
            update(Account)
            .where(Account.parent_id == account_id)
            .values(parent_id=None, parent_crm_id=None)
        ).rowcount  # type: ignore[attr-defined]
        or 0
    )
    session.flush()
    for table, where in account_tables(keys):
        if table.name in AUDIT_TABLES:
            continue
        deleted = session.execute(delete(table).where(where)).rowcount or 0  # type: ignore[attr-defined]
        if deleted:
            result.rows[table.name] = deleted
    result.mix_days_dropped = session.execute(delete(BookMixDay)).rowcount or 0  # type: ignore[attr-defined]
    now = utcnow()
    for entity, values in sorted(keys.keys.items()):
        already = set(
            session.scalars(
                select(ErasedKey.value).where(
                    ErasedKey.entity == entity, ErasedKey.value.in_(sorted(values))
                )
            )
        )
        for value in sorted(values - already):
            session.add(
                ErasedKey(entity=entity, value=value[:255], request_id=request.id, erased_at=now)
            )
            result.erased_keys += 1
    request.counts = {
        "rows": result.rows,
        "erased_keys": result.erased_keys,
        "detached_children": result.detached_children,
    }
    session.flush()
    return result


def relink(session: Session, request_id: int, actor: str) -> int:
    """Lift the erasure `request_id`: its keys are no longer suppressed, so the account's
    records come back the next time a pull sends them. Returns how many keys were lifted."""
    request = session.get(DataRequest, request_id)
    if request is None or request.kind != "delete":
        raise NothingToErase(f"no erasure {request_id} (see `pulsehub data requests`)")
    lifted = session.scalar(
        select(func.count()).select_from(ErasedKey).where(ErasedKey.request_id == request_id)
    )
    session.execute(delete(ErasedKey).where(ErasedKey.request_id == request_id))
    session.add(
        DataRequest(
            kind="relink",
            account_id=request.account_id,
            actor=actor,
            counts={"lifted_keys": lifted or 0, "erasure": request_id},
        )
    )
    session.flush()
    return lifted or 0
