"""Which accounts' inputs digests a later run of the day must recompute, and where the others'
are kept: the committed mark of the last digest computation and the digests it stored.

The mark (cursor `scoring:digests`) holds a key of everything global the digests depend on
(the head: the day, the scorecard, the risk model, the usage feed's newest day, the rules...,
and the last complete usage day), the watermark `since` and the override `moment` the digests
were taken at. It is saved with the digests (`inputs_digests`) in the scoring transaction, so a
crashed or dry run (rolled back) leaves the last committed pair. A run with the same key
recomputes only the accounts that can have another digest since then:

- a row of theirs inserted or changed: accounts, contacts, opportunities, usage rows,
  identities, escalations and overrides by `updated_at`, tickets by `synced_at`; each moved
  by pulsehub's clock only when the row's content changes (model/upsert.py), a re-link
  (model/links.py, Core updates apply `onupdate`) or a soft delete included. Usage rows
  after the last complete day (today's partial row, refreshed by every pull) are not read
  by the digest, so their changes do not count (the day they become complete moves the key);
- a row that left them (re-pointed elsewhere or hard-deleted: an erasure, an identity
  re-linked, a child moved to another parent): `account_changes`, written by triggers
  (model/change_tables.py), consumed by the run that reads it;
- a parent of a changed account (its digest names its live children): the changed account's
  parent now, and its parent before a move through `account_changes`;
- an override that started or expired between the two moments (time alone, no row change);
- a live account without a stored digest (safety: nothing stored can be trusted for it).

The watermark is the wall clock when the computation started, less the marks' margin
(model/marks.py), not the newest stamp seen: stamps are taken by writers before they commit,
so a row stamped a little before our reads can be committed after them; the margin costs
re-reading the accounts changed during it once more. `account_changes` needs no watermark:
exactly the rows read are deleted.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import islice

from sqlalchemy import and_, delete, func, insert, or_, select
from sqlalchemy.orm import Session

from model import marks
from model.tables import (
    Account,
    AccountChange,
    Contact,
    Escalation,
    ExternalIdentity,
    HealthSnapshot,
    InputsDigest,
    Opportunity,
    ScoreOverride,
    Ticket,
    UsageDaily,
)

MARK_STREAM = "scoring:digests"
IN_CHUNK = 900


@dataclass(frozen=True)
class DigestMark:
    """The last committed digest computation (ISO texts, as stored in the cursor)."""

    key: str
    since: str
    moment: str


def mark_key(head: str, through: dt.date) -> str:
    """The mark's key: the digests' head and the last complete usage day (which moves at
    midnight for an earlier day's run without any row changing)."""
    return hashlib.sha256(f"{head}|{through.isoformat()}".encode()).hexdigest()


def read_mark(session: Session) -> DigestMark | None:
    return marks.read_mark(session, MARK_STREAM, DigestMark)  # None: digest in full


def save_mark(session: Session, mark: DigestMark) -> None:
    marks.save_mark(session, MARK_STREAM, mark)


def watermark(started: dt.datetime) -> dt.datetime:
    """What the next run compares change stamps with, for a computation started at `started`."""
    return marks.watermark(started)


def logged_changes(session: Session) -> tuple[list[int], set[int]]:
    """The `account_changes` rows committed so far: their ids (to delete with the mark) and
    the accounts they name."""
    rows = session.execute(select(AccountChange.id, AccountChange.account_id)).tuples().all()
    return [i for i, _ in rows], {a for _, a in rows}


def forget_logged(session: Session, ids: list[int]) -> None:
    """Delete exactly the change rows this computation read (rows committed since stay)."""
    for start in range(0, len(ids), IN_CHUNK):
        chunk = ids[start : start + IN_CHUNK]
        session.execute(delete(AccountChange).where(AccountChange.id.in_(chunk)))


def changed_accounts(
    session: Session,
    since: dt.datetime,
    moments: tuple[dt.datetime, dt.datetime],
    through: dt.date,
) -> set[int]:
    """Accounts with an input row stamped after `since` (usage rows up to `through`, the last
    complete usage day), the parents of changed accounts, and accounts whose override started
    or expired between the two `moments`."""
    out: set[int] = set()
    for owner, stamp, *only in (
        (Contact.account_id, Contact.updated_at),
        (Opportunity.account_id, Opportunity.updated_at),
        (Ticket.account_id, Ticket.synced_at),
        (UsageDaily.account_id, UsageDaily.updated_at, UsageDaily.day <= through),
        (ExternalIdentity.account_id, ExternalIdentity.updated_at),
        (Escalation.account_id, Escalation.updated_at),
    ):
        out.update(session.scalars(select(owner).where(stamp > since, *only).distinct()))
    for aid, parent in session.execute(
        select(Account.id, Account.parent_id).where(Account.updated_at > since)
    ).tuples():
        out.add(aid)
        if parent is not None:
            out.add(parent)
    lo, hi = min(moments), max(moments)
    crossed = or_(
        ScoreOverride.updated_at > since,
        and_(ScoreOverride.created_at > lo, ScoreOverride.created_at <= hi),
        and_(ScoreOverride.expires_at > lo, ScoreOverride.expires_at <= hi),
        ScoreOverride.created_at > hi,  # dated ahead: starts later, with no row change
    )
    out.update(session.scalars(select(ScoreOverride.account_id).where(crossed).distinct()))
    out.discard(None)  # type: ignore[arg-type]
    return out


def stored_digests(
    session: Session, ids: Sequence[int] | None = None
) -> dict[int, tuple[str, bool]]:
    """Every stored digest (of the accounts in `ids`, given): account -> (digest, scored on
    the day)."""
    q = select(InputsDigest.account_id, InputsDigest.digest, InputsDigest.scorable)
    if ids is None:
        return {aid: (d, scorable) for aid, d, scorable in session.execute(q).tuples()}
    out: dict[int, tuple[str, bool]] = {}
    ordered = sorted(ids)
    for start in range(0, len(ordered), IN_CHUNK):
        chunk = ordered[start : start + IN_CHUNK]
        rows = session.execute(q.where(InputsDigest.account_id.in_(chunk))).tuples()
        out.update({aid: (d, scorable) for aid, d, scorable in rows})
    return out


class StoredDigests:
    """The inputs digests as stored (`inputs_digests`), read a chunk of accounts at a time
    through the session of the step that needs them: scoring writes them on its snapshots,
    escalation on its evaluations (a later step's transaction sees what scoring committed; a
    dry run's steps share one session). Held whole, the book's digests and the maps built
    from them were ~30 MiB at 50,000 accounts in every hourly run."""


DigestSource = Mapping[int, str] | StoredDigests


def digests_of(session: Session, source: DigestSource | None, ids: Iterable[int]) -> dict[int, str]:
    """The digests of the accounts in `ids` (missing: unknown) from a map or the stored ones."""
    if source is None:
        return {}
    if isinstance(source, StoredDigests):
        return {a: d for a, (d, _) in stored_digests(session, list(ids)).items()}
    return {a: d for a in ids if (d := source.get(a)) is not None}


def store_digests(
    session: Session,
    rows: Iterable[tuple[int, str, bool]],
    replace: Collection[int] | None,
) -> None:
    """Store `rows` (account, digest, scored on the day) in place of every stored one
    (`replace` None, a full computation), else in place of the accounts in `replace`
    (recomputed, or gone). Written a batch at a time as `rows` yields them."""
    if replace is None:
        session.execute(delete(InputsDigest))
    else:
        ids = sorted(replace)
        for start in range(0, len(ids), IN_CHUNK):
            chunk = ids[start : start + IN_CHUNK]
            session.execute(delete(InputsDigest).where(InputsDigest.account_id.in_(chunk)))
    it = iter(rows)
    while batch := [
        {"account_id": a, "digest": d, "scorable": s} for a, d, s in islice(it, STORE_BATCH)
    ]:
        session.execute(insert(InputsDigest), batch)


STORE_BATCH = 5000


def unstored_live(session: Session) -> set[int]:
    """Live accounts without a stored digest (new since, or never digested)."""
    stored = select(InputsDigest.account_id).where(InputsDigest.account_id == Account.id)
    q = select(Account.id).where(Account.is_deleted.is_(False), ~stored.exists())
    return set(session.scalars(q))


def stored_gone(session: Session) -> set[int]:
    """Stored digests of accounts no longer live (deleted or erased)."""
    live = select(Account.id).where(
        Account.id == InputsDigest.account_id, Account.is_deleted.is_(False)
    )
    return set(session.scalars(select(InputsDigest.account_id).where(~live.exists())))


def differing_from_snapshots(session: Session, as_of: dt.date) -> set[int]:
    """Accounts whose stored digest is not the one on their snapshot of `as_of` (a snapshot
    without a digest differs), and scored accounts with no snapshot of the day."""
    snap = HealthSnapshot
    joined = select(InputsDigest.account_id).join(
        snap, and_(snap.account_id == InputsDigest.account_id, snap.as_of == as_of)
    )
    moved = joined.where(
        or_(snap.inputs_digest.is_(None), snap.inputs_digest != InputsDigest.digest)
    )
    has = select(snap.account_id).where(
        snap.account_id == InputsDigest.account_id, snap.as_of == as_of
    )
    missing = select(InputsDigest.account_id).where(InputsDigest.scorable.is_(True), ~has.exists())
    return set(session.scalars(moved)) | set(session.scalars(missing))


def scorable_among(session: Session, ids: Iterable[int]) -> set[int]:
    """Those of `ids` scoring scores on the day (by their stored digests)."""
    return {a for a, (_, scorable) in stored_digests(session, list(ids)).items() if scorable}


def scorable_count(session: Session) -> int:
    q = select(func.count()).select_from(InputsDigest).where(InputsDigest.scorable.is_(True))
    return int(session.scalar(q) or 0)
