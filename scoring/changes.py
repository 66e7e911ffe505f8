"""Which accounts a run must re-score: a digest of each account's inputs, compared with the
digest stored on the day's snapshot (`HealthSnapshot.inputs_digest`).

Everything a day's score is computed from goes into the digest, read from committed rows
(never from what a run remembers), so a crashed or dry run leaves nothing to reconcile:

- global: the day, whether it is scored as the current day, the scorecard (its full JSON),
  the renewal-risk model in force (fitted version or scorecard prior), the usage feed's
  newest day, and an `extra` digest the caller adds (the escalation rules);
- the account row itself (every column but its clocks: the bookkeeping `updated_at` and the
  crm's modstamp, which pulsehub's own field writes move), its live children
  (a parent's roll-up), its active override at `now` (set, revoked or expired);
- the account's open escalations (a scored signal);
- per source table, per account: row count, sum of ids (a row moved to another account
  changes both), newest source timestamp and sums of the scored values (an in-place edit);
  for tickets, sums of two per-row keys instead of the timestamp (what the ticket says less
  band tags, and its status, priority, type and rating: model/own_tags.py), since the
  helpdesk's `updated_at` moves when pulsehub's own tags are written and read back.

A day's snapshots are written for every account by the day's first run (no digest stored
yet), so time thresholds (renewal buckets, trailing windows) are crossed by that daily pass;
within a day only the data, the configuration and overrides can change a score.

Computing the digests is itself proportional to change (`book_digests`): a later run with the
same head recomputes only the accounts whose inputs can have moved since the last committed
computation and reads the others' from `inputs_digests` (scoring/digest_marks.py says which
and why); the day's first run, a configuration or model change and a forced full score digest
every account. Either way an account's digest is the same (`input_digests` of that account).

The digests stay in the database (`inputs_digests`, in the run's transaction): a full
computation writes each account's as it finishes it, the comparisons with the day's snapshots
(`plan_rescore`) and with the last escalation evaluations (escalation/scope.py) are joins that
read back only the accounts that differ, and the steps that record a digest read those of
their chunk (`digest_marks.StoredDigests`). No run holds a map of the book's digests: at 50,000
accounts those maps were ~30 MiB of every hourly run's peak.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session

from model.lifecycle import is_churned_stage
from model.tables import (
    Account,
    Contact,
    Escalation,
    ExternalIdentity,
    HealthSnapshot,
    InputsDigest,
    Opportunity,
    RiskModelVersion,
    Ticket,
    UsageDaily,
)
from scoring import digest_marks as marks
from scoring import store
from scoring.config import Percentile, Scorecard
from scoring.queries import end_of, usage_feed_last, usage_through
from scoring.signals import CURRENT_STATE_DAYS

ID_CHUNK = 900  # account ids per IN list
# bump when what a digest covers changes: stored digests of another version are not reused
DIGEST_VERSION = "2"
# the account row's clocks, not its content: pulsehub's bookkeeping (identity matching's
# stamp included: model/match_fields.py), and the crm's modstamp, which pulsehub's own field
# writes move (read back, they re-scored every account written)
CLOCKS = frozenset({"updated_at", "source_modstamp", "match_changed_at"})
FULL_SHARE = 0.5  # more than this share of the book changed: the batched full pass is cheaper


@dataclass(frozen=True)
class Rescore:
    """`digests`: every live account's inputs digest, as stored in the run's transaction (read
    a chunk at a time); `scope`: the accounts to re-score (None: all of them, the batched
    pass); `reason`: why, for the log. Which accounts' escalation rules to evaluate is
    escalation/scope.py's question (from the stored digests). `digested`: how many digests
    were recomputed (None: every one)."""

    digests: marks.StoredDigests
    scope: list[int] | None
    reason: str
    digested: int | None = None


def plan_rescore(
    session: Session,
    as_of: date,
    scorecard: Scorecard,
    model_key: str,
    *,
    now: datetime | None = None,
    extra: str = "",
    full_digest: bool = False,
) -> Rescore:
    """Every live account's inputs digest (recomputed for the accounts that can have changed
    since the last committed computation of the day: `book_digests`), compared with the day's
    stored snapshot digests in the database: only the accounts that differ are read back."""
    book = book_digests(
        session, as_of, scorecard, model_key, now=now, extra=extra, full=full_digest
    )
    digests, n = book.digests, book.recomputed
    any_snapshot = select(HealthSnapshot.account_id).where(HealthSnapshot.as_of == as_of)
    if session.scalar(any_snapshot.limit(1)) is None:
        why = "first run of the day: every account is scored"
        return Rescore(digests, None, why, n)
    if any(isinstance(m.normalization, Percentile) for m in scorecard.measures.values()):
        return Rescore(digests, None, "percentile measures rank the whole book", n)
    # digests that moved, and accounts scored from now on (a new customer, a late pull);
    # a changed child changes its parents' roll-up
    scope = marks.scorable_among(
        session, _with_ancestors(session, marks.differing_from_snapshots(session, as_of))
    )
    if len(scope) > FULL_SHARE * max(marks.scorable_count(session), 1):
        return Rescore(digests, None, f"{len(scope)} accounts changed: full pass", n)
    return Rescore(digests, sorted(scope), f"{len(scope)} accounts to re-score", n)


@dataclass(frozen=True)
class BookDigests:
    """Every live account's inputs digest, as stored in the caller's transaction, and how many
    were recomputed (None: all, a full computation)."""

    digests: marks.StoredDigests
    recomputed: int | None


def book_digests(
    session: Session,
    as_of: date,
    scorecard: Scorecard,
    model_key: str,
    *,
    now: datetime | None = None,
    extra: str = "",
    full: bool = False,
) -> BookDigests:
    """Every live account's inputs digest, recomputed only where it can have changed since the
    last committed computation with the same head (scoring/digest_marks.py), else in full
    (the day's first run, a configuration or model change, `full`). Stores the digests and
    the mark in the caller's transaction, which commits them with the scores; nothing of the
    whole book is held: a full computation writes the digests as it finishes them."""
    started = datetime.now(UTC)  # before any read: the next run's watermark
    log_ids, logged = marks.logged_changes(session)
    head = _head(session, as_of, scorecard, model_key, extra)
    key = marks.mark_key(head, usage_through(as_of))
    moment = min(now or datetime.now(UTC), end_of(as_of))
    last = None if full else marks.read_mark(session)
    if last is None or last.key != key:
        marks.store_digests(session, _digests(session, as_of, head, now, None), None)
        recomputed = None
    else:
        since = datetime.fromisoformat(last.since)
        changed = marks.changed_accounts(
            session, since, (datetime.fromisoformat(last.moment), moment), usage_through(as_of)
        )
        changed |= logged | marks.unstored_live(session)
        gone = marks.stored_gone(session)
        fresh = list(_digests(session, as_of, head, now, sorted(changed)))
        recomputed = len(fresh)  # the live ones among them
        marks.store_digests(session, fresh, changed | gone)
    marks.forget_logged(session, log_ids)
    mark = marks.DigestMark(key, marks.watermark(started).isoformat(), moment.isoformat())
    marks.save_mark(session, mark)
    return BookDigests(marks.StoredDigests(), recomputed)


def active_model_key(session: Session, scorecard: Scorecard) -> str:
    """What identifies the renewal-risk model in force, as `scoring.service.current_risk_model`
    picks it, without loading it: the newest active fitted version, else the saved model file
    the scorecard names (its content), else the scorecard's prior (in the scorecard's digest)."""
    version = session.scalar(
        select(RiskModelVersion.id)
        .where(RiskModelVersion.active.is_(True))
        .order_by(RiskModelVersion.id.desc())
        .limit(1)
    )
    if version is not None:
        return f"fitted:{version}"
    path = scorecard.risk.model_file
    if path is not None and path.exists():
        return "file:" + hashlib.sha256(path.read_bytes()).hexdigest()
    return "prior"


def input_digests(
    session: Session,
    as_of: date,
    scorecard: Scorecard,
    model_key: str,
    *,
    now: datetime | None = None,
    extra: str = "",
    ids: Sequence[int] | None = None,
) -> tuple[dict[int, str], set[int]]:
    """Each live account's inputs digest (of the accounts in `ids`, given), and the accounts
    scoring scores on `as_of` among them. The digest of an account does not depend on which
    others are computed with it."""
    head = _head(session, as_of, scorecard, model_key, extra)
    rows = list(_digests(session, as_of, head, now, ids))
    return {a: d for a, d, _ in rows}, {a for a, _, scored in rows if scored}


def _digests(
    session: Session, as_of: date, head: str, now: datetime | None, ids: Sequence[int] | None
) -> Iterator[tuple[int, str, bool]]:
    """(account, inputs digest, scored on `as_of`) of each live account (of those in `ids`,
    given). The whole book goes a range of `FULL_RANGE` account ids at a time, each range's
    digests finished before the next is read: a digest is hashed as its parts arrive, and
    the whole book's open hashes were ~15 MiB at 50,000 accounts."""
    for scope in _ranges(session) if ids is None else [ids]:
        parts, scorable = _digest_parts(session, as_of, head, now, scope)
        yield from parts.finish(scorable)


FULL_RANGE = 5_000  # account ids per pass of a full computation (50,000 accounts in one pass:
# +68 MiB, 10.0 s; in ranges of 5,000: +25 MiB, ~13-19 s, measured beside a running sync)


@dataclass(frozen=True)
class _Range:
    lo: int
    hi: int


def _ranges(session: Session) -> list[_Range]:
    """The live accounts' id span cut into ranges of `FULL_RANGE` ids."""
    live = Account.is_deleted.is_(False)
    lo, hi = session.execute(select(func.min(Account.id), func.max(Account.id)).where(live)).one()
    if lo is None:
        return []
    return [_Range(a, min(a + FULL_RANGE - 1, hi)) for a in range(lo, hi + 1, FULL_RANGE)]


def _digest_parts(
    session: Session, as_of: date, head: str, now: datetime | None, ids: Sequence[int] | _Range
) -> tuple[_Parts, set[int]]:
    """The digests of the live accounts in `ids` (a list, or a range of ids), hashed as their
    inputs are read, and the accounts scoring scores on `as_of` among them."""
    current = (date.today() - as_of).days <= CURRENT_STATE_DAYS
    parts = _Parts(head)
    scorable: set[int] = set()
    children: dict[int, list[int]] = defaultdict(list)
    cols = [c for c in Account.__table__.c if c.name not in CLOCKS]
    live = Account.is_deleted.is_(False)
    for chunk in _chunks(ids):
        rows = select(*cols).where(live, *_within(Account.id, chunk))
        for row in session.execute(rows.execution_options(yield_per=STREAM_ROWS)):
            parts.start(row.id, tuple(row))
            since_ok = row.customer_since is None or row.customer_since <= as_of
            if since_ok and not (current and is_churned_stage(row.lifecycle_stage)):
                scorable.add(row.id)
        linked = select(Account.id, Account.parent_id).where(live, Account.parent_id.is_not(None))
        for kid, parent in session.execute(linked.where(*_within(Account.parent_id, chunk))):
            if parent is not None:
                children[parent].append(kid)
    scorable -= _lost_last_renewal(session, as_of, ids)
    for aid, kids in children.items():
        parts.add(aid, ("children", sorted(kids)))
    del children
    moment = min(now or datetime.now(UTC), end_of(as_of))
    listed = None if isinstance(ids, _Range) else list(ids)  # a range: every override, few
    for aid, o in store.active_overrides(session, moment, listed).items():
        parts.add(aid, ("override", o.id, o.band, o.score, o.expires_at))  # others ignored
    # the aggregates through the session's connection (Core): an ORM `session.execute`
    # buffers every row as Python objects first, Core converts a row at a time from the
    # driver's client-side result (a day's scoring on 5,000 accounts: +23.1 -> +22.2 MiB)
    connection = session.connection()
    for name, query in _source_queries(end_of(as_of), usage_through(as_of)):
        for chunk in _chunks(ids):
            for row in connection.execute(query.where(*_within(query.selected_columns[0], chunk))):
                aid, *values = row
                parts.add(aid, (name, *_stable(values)))
    return parts, scorable


STREAM_ROWS = 5000  # account rows read at a time (the aggregates, a few numbers per account,
# are read whole: streamed through a server-side cursor, PostgreSQL plans them for the first
# rows and took 6x longer at 50,000 accounts)


class _Parts:
    """Each account's digest, hashed as its parts arrive: `_hash(head, parts)` of the list of
    its parts in arrival order, without holding the parts. (Held, every live account's row
    and aggregates were ~100 MiB at a 50,000-account day's first run.)"""

    def __init__(self, head: str) -> None:
        self.head = head.encode() + b"|["
        self.open: dict[int, Any] = {}

    def start(self, aid: int, first: Any) -> None:
        h = hashlib.sha256(self.head)
        h.update(repr(first).encode())
        self.open[aid] = h

    def add(self, aid: int, part: Any) -> None:
        """Appends to a started account's parts; parts of any other account are ignored."""
        if (h := self.open.get(aid)) is not None:
            h.update(b", " + repr(part).encode())

    def finish(self, scorable: set[int]) -> Iterator[tuple[int, str, bool]]:
        """Each account's digest and whether it is in `scorable`, in account order, each
        hash let go as it is finished (a full computation never holds the book's digests)."""
        for aid in sorted(self.open):
            h = self.open.pop(aid)
            h.update(b"]")
            yield aid, h.hexdigest(), aid in scorable


def _head(session: Session, as_of: date, scorecard: Scorecard, model_key: str, extra: str) -> str:
    """What every account's digest shares: the day, whether it is scored as the current day,
    the scorecard, the risk model, the usage feed's newest day and the caller's `extra`."""
    current = (date.today() - as_of).days <= CURRENT_STATE_DAYS
    return "|".join(
        [
            DIGEST_VERSION, as_of.isoformat(), str(current), scorecard.model_dump_json(),
            model_key, str(usage_feed_last(session, as_of)), extra,
        ]
    )  # fmt: skip


def _chunks(ids: Sequence[int] | _Range) -> Iterable[Sequence[int] | _Range]:
    """A range of ids in one pass, or `ids` in chunks under every driver's bound-parameter
    limit (an empty `ids`: no pass at all)."""
    if isinstance(ids, _Range):
        yield ids
        return
    for start in range(0, len(ids), ID_CHUNK):
        yield ids[start : start + ID_CHUNK]


def _within(column: Any, chunk: Sequence[int] | _Range) -> list[Any]:
    if isinstance(chunk, _Range):
        return [column.between(chunk.lo, chunk.hi)]
    return [column.in_(chunk)]


def _source_queries(end: datetime, through: date) -> Iterable[tuple[str, Any]]:
    """(name, grouped query) per input table: account_id first, then its aggregates. Usage
    rows after `through` (today's partial row, refreshed all day) are not scored: left out."""
    n, total, newest = func.count, func.sum, func.max
    still_open = or_(  # the escalations scoring counts as open (scoring/support_queries.py)
        and_(Escalation.resolved_at.is_(None), Escalation.state != "resolved"),
        Escalation.resolved_at >= end,
    )
    yield (
        "escalations",
        select(Escalation.account_id, n(), total(Escalation.id))
        .where(Escalation.opened_at < end, still_open)
        .group_by(Escalation.account_id),
    )
    yield "contacts", select(
        Contact.account_id, n(), total(Contact.id), newest(Contact.source_modstamp),
        total(case((Contact.is_champion, 1), else_=0)),
        total(case((Contact.is_executive, 1), else_=0)),
    ).where(Contact.is_deleted.is_(False)).group_by(Contact.account_id)  # fmt: skip
    yield "opportunities", select(
        Opportunity.account_id, n(), total(Opportunity.id), newest(Opportunity.source_modstamp),
        total(Opportunity.amount), newest(Opportunity.close_date),
        total(case((Opportunity.is_closed, 1), else_=0)),
        total(case((Opportunity.is_won, 1), else_=0)),
    ).where(Opportunity.is_deleted.is_(False)).group_by(Opportunity.account_id)  # fmt: skip
    # not the helpdesk's `updated_at`: it moves when pulsehub's own band tags are written and
    # read back; what a ticket says and its state are summed as keys (model/own_tags.py)
    yield "tickets", select(
        Ticket.account_id, n(), total(Ticket.id), total(Ticket.content_key),
        n(Ticket.content_key), total(Ticket.state_key), n(Ticket.state_key),
        newest(Ticket.solved_at), newest(Ticket.csat_at), n(Ticket.csat),
        total(Ticket.reopens), total(Ticket.first_reply_minutes),
        total(Ticket.full_resolution_minutes),
    ).group_by(Ticket.account_id)  # fmt: skip
    yield "usage", select(
        UsageDaily.account_id, n(), total(UsageDaily.id), newest(UsageDaily.day),
        total(UsageDaily.active_users), total(UsageDaily.logins),
        total(UsageDaily.features_used), total(UsageDaily.feature_events),
        total(UsageDaily.seats_used), total(UsageDaily.seats_purchased),
    ).where(UsageDaily.day <= through).group_by(UsageDaily.account_id)  # fmt: skip
    yield "identities", select(
        ExternalIdentity.account_id, n(), total(ExternalIdentity.id),
        total(case((ExternalIdentity.status == "linked", 1), else_=0)),
        func.min(ExternalIdentity.external_id), newest(ExternalIdentity.external_id),
    ).where(ExternalIdentity.is_deleted.is_(False)).group_by(ExternalIdentity.account_id)  # fmt: skip


def _lost_last_renewal(session: Session, as_of: date, ids: Sequence[int] | _Range) -> set[int]:
    """Accounts whose last renewal closed by `as_of` was lost: scoring leaves them out
    (as `scoring.queries.add_opportunities` decides it)."""
    last: dict[int | None, bool] = {}
    for chunk in _chunks(ids):
        rows = session.execute(
            select(Opportunity.account_id, Opportunity.is_won)
            .where(Opportunity.is_deleted.is_(False), Opportunity.type == "Renewal")
            .where(Opportunity.is_closed.is_(True), Opportunity.close_date <= as_of)
            .where(*_within(Opportunity.account_id, chunk))
            .order_by(Opportunity.account_id, Opportunity.close_date)
        )
        last.update({aid: won for aid, won in rows.tuples().all()})
    return {aid for aid, won in last.items() if aid is not None and not won}


def _with_ancestors(session: Session, ids: set[int]) -> set[int]:
    """`ids` and the live parents above each of them, read a level at a time."""
    out, level = set(ids), set(ids)
    while level:
        ups: set[int] = set()
        ordered = sorted(level)
        for start in range(0, len(ordered), ID_CHUNK):
            q = select(Account.parent_id).where(
                Account.is_deleted.is_(False),
                Account.id.in_(ordered[start : start + ID_CHUNK]),
                Account.parent_id.is_not(None),
            )
            ups.update(p for p in session.scalars(q) if p is not None)
        live_ups = select(Account.id).where(Account.is_deleted.is_(False))
        level = set()
        pending = sorted(ups - out)
        for start in range(0, len(pending), ID_CHUNK):
            chunk = pending[start : start + ID_CHUNK]
            level.update(session.scalars(live_ups.where(Account.id.in_(chunk))))
        out |= level
    return out


def _stable(values: Iterable[Any]) -> list[Any]:
    """Aggregates in a form that does not depend on the scan order (float sums rounded)."""
    return [round(v, 4) if isinstance(v, float) else v for v in values]


def _hash(head: str, parts: list[Any]) -> str:
    text = head + "|" + repr(parts)
    return hashlib.sha256(text.encode()).hexdigest()


def band_counts(session: Session, as_of: date) -> dict[str, int]:
    """Accounts per band among the day's snapshots of the accounts scoring scores, by their
    stored digests (what a full pass returns): an account churned since its snapshot of the
    day keeps the snapshot but is no longer counted."""
    q = (
        select(HealthSnapshot.band, func.count())
        .join(InputsDigest, InputsDigest.account_id == HealthSnapshot.account_id)
        .where(HealthSnapshot.as_of == as_of, InputsDigest.scorable.is_(True))
        .group_by(HealthSnapshot.band)
    )
    return {band: int(n) for band, n in session.execute(q).tuples()}
