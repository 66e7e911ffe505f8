"""Which accounts an incremental run must re-evaluate: each rule's answer can next change
only when what it reads changes, and this module names those moments.

Every rule (escalation/rules.py) is a pure function of the account's facts, and the facts
are read "as of" the end of the day (escalation/facts.py): ticket ages and SLA breaches are
measured to the end of the day, the windows (repeated issue, CSAT, champion look-back) end
there, snapshots are the latest up to that day. So within one day an account's decisions
change only when one of these does:

- its inputs: the account row, its contacts, renewals, tickets and open escalations, the
  escalation rules' config (all in the inputs digest, scoring/changes.py); an account is
  re-evaluated when that digest differs from the one its last evaluation stored
  (`EscalationEvaluation.inputs_digest`; missing or NULL: unknown, so re-evaluated). The
  digest names the day, so the day's first run evaluates everyone;
- its health snapshot (band, score, trend, contradictions): the accounts this run re-scored,
  and those a run re-scored after the last completed run finished (killed between scoring
  and escalating), as well as accounts evaluated after it (by a run that did not complete);
- the rest of the book, for the repeated-issue rule only: a cluster's `book_expected` reads
  the book's topic mix. What it read is kept per account (`EscalationEvaluation.book_norms`,
  escalation/book_norms.py); when the book's tickets of the window changed since the last
  completed run (a digest of them is kept in its stats, `incremental.book`), each kept norm
  is recomputed against the current mix, and only accounts whose value moved are re-evaluated.
  An account without a cluster reads nothing of the book;
- people and time, through the Escalation rows themselves: an escalation changed since the
  last completed run started (resolved, acknowledged or snoozed by hand), a cooldown ending
  (before the next hour: the reconcile runs a little after this scope is taken), an open
  escalation whose engineering ticket someone took up (`acknowledge_from_tickets`).

Why nothing else is needed: `reconcile` given the same decisions is a no-op for an active
escalation (its fingerprint is unchanged: escalation/episodes.py), keeps a cleared one
cleared, and for a resolved one suppresses the decision (already marked) until its cooldown
ends, which is covered above. An active escalation does not age by itself (severity reads the
facts, not the clock), and the post-incident review due time is read by the reviews stage,
not by the rules. Churned accounts (which scoring leaves out) are no exception: their facts
are the same kinds of rows, so they are re-evaluated when their digest moves and on the day's
first run, never merely because they are churned.

Everything here is read from committed rows: a crashed or dry run leaves nothing behind
that this trusts (evaluations are written in the escalation step's transaction), and with
no completed run to compare with every account is evaluated.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Mapping
from datetime import date, datetime, timedelta

from sqlalchemy import delete, func, insert, or_, select
from sqlalchemy.orm import Session

from escalation.book_days import mix_settings
from escalation.book_norms import BookNorm
from escalation.config import EscalationConfig
from escalation.fact_models import end_of_day
from escalation.lifecycle import taken_up
from escalation.ticket_facts import book_mix
from model.tables import (
    Escalation,
    EscalationEvaluation,
    HealthSnapshot,
    InputsDigest,
    SyncRun,
    Ticket,
)
from scoring.digest_marks import DigestSource, digests_of, stored_digests

ACTIVE = ("open", "acknowledged")
DONE = ("succeeded", "partial")
COOLDOWN_AHEAD = timedelta(hours=1)  # a cooldown ending before the reconcile's own `now`
IN_CHUNK = 900
STREAM_ROWS = 10_000  # rows fetched at a time where a whole table is read


def last_completed_run(session: Session) -> SyncRun | None:
    """The newest run of the book that finished: near-real-time refreshes (one account) and
    dry runs (rolled back) do not count."""
    return session.scalars(
        select(SyncRun)
        .where(SyncRun.status.in_(DONE), SyncRun.dry_run.is_(False))
        .where(SyncRun.kind.not_like("refresh%"), SyncRun.finished_at.is_not(None))
        .order_by(SyncRun.finished_at.desc(), SyncRun.id.desc())
        .limit(1)
    ).first()


def scored_after(session: Session, as_of: date, last: SyncRun | None) -> set[int]:
    """Accounts re-scored after the last completed run finished: a run that crashed (or was
    stopped) between scoring and escalating left their decisions to this one."""
    q = select(HealthSnapshot.account_id).where(HealthSnapshot.as_of == as_of)
    if last is not None and last.finished_at is not None:
        q = q.where(HealthSnapshot.computed_at > last.finished_at)
    return set(session.scalars(q))


def scored_after_last_run(session: Session, as_of: date) -> set[int]:
    return scored_after(session, as_of, last_completed_run(session))


def escalation_scope(
    session: Session,
    as_of: date,
    now: datetime,
    config: EscalationConfig,
    rescored: Iterable[int],
) -> tuple[set[int], dict[str, int | str]]:
    """The accounts to re-evaluate among the live ones (each one's inputs digest as stored in
    the session's transaction, `inputs_digests`; `rescored`: those this run re-scored), and
    what to keep in the run's stats (the book digest, and how many accounts each reason
    brought in). The digests are compared in the database: only accounts that differ are
    read back."""
    last = last_completed_run(session)
    book = book_digest(session, as_of, config)
    if last is None or last.finished_at is None:  # nothing to compare with: everyone
        everyone = set(session.scalars(select(InputsDigest.account_id)))
        return everyone, {"book": book, "judged_inputs": len(everyone)}
    since, finished = last.started_at, last.finished_at
    snapshots = set(rescored) | scored_after(session, as_of, last)
    snapshots |= set(
        session.scalars(
            select(EscalationEvaluation.account_id).where(
                EscalationEvaluation.evaluated_at > finished
            )
        )
    )
    changed = _inputs_moved(session)  # less each account evaluated from the inputs it has now
    people = _escalations_due(session, now, since)
    before = ((last.stats or {}).get("incremental") or {}).get("book")
    norms: set[int] = set()
    if book and book != before:
        # the signatures first (a set), then each account's norms against their counts
        keys = frozenset(n.signature for _, ns in _kept_norms(session) for n in ns)
        if keys:
            mix = book_mix(session, as_of, config, keys)
            norms = {a for a, ns in _kept_norms(session) if any(n.moved(mix) for n in ns)}
    out = changed | stored_digests(session, sorted(snapshots | people | norms)).keys()  # live
    info: dict[str, int | str] = {
        "book": book,
        "judged_inputs": len(changed),
        "judged_snapshot": len(snapshots),
        "judged_escalations": len(people),
        "judged_book": len(norms),
    }
    return out, info


def _inputs_moved(session: Session) -> set[int]:
    """Accounts whose stored inputs digest is not the one their last evaluation recorded (no
    evaluation, or one without a digest: unknown)."""
    e = EscalationEvaluation
    q = (
        select(InputsDigest.account_id)
        .outerjoin(e, e.account_id == InputsDigest.account_id)
        .where(or_(e.inputs_digest.is_(None), e.inputs_digest != InputsDigest.digest))
    )
    return set(session.scalars(q))


def _kept_norms(session: Session) -> Iterator[tuple[int, list[BookNorm]]]:
    """The book norms each account's last evaluation read, streamed (accounts with a cluster
    only: the others read nothing of the book)."""
    rows = session.execute(
        select(EscalationEvaluation.account_id, EscalationEvaluation.book_norms).execution_options(
            yield_per=IN_CHUNK
        )
    )
    for aid, norms in rows.tuples():
        if norms:
            yield aid, [BookNorm.from_row(r) for r in norms]


def _escalations_due(session: Session, now: datetime, since: datetime) -> set[int]:
    """Accounts whose escalation rows moved without their facts: changed by a person (or the
    last run) since `since`, a cooldown ending, an engineering ticket taken up."""
    moved = select(Escalation.account_id).where(
        or_(
            Escalation.updated_at >= since,
            Escalation.cooldown_until.between(since, now + COOLDOWN_AHEAD),
        )
    )
    return set(session.scalars(moved)) | set(session.scalars(taken_up(Escalation.account_id)))


def record_evaluations(
    session: Session,
    norms: Mapping[int, list[BookNorm]],
    digests: DigestSource | None,
    now: datetime,
) -> None:
    """Remember that the accounts in `norms` were evaluated now, from the inputs `digests`
    names (None, or an account missing from it: unknown, so the next run evaluates it)."""
    ids = sorted(norms)
    for start in range(0, len(ids), IN_CHUNK):
        chunk = ids[start : start + IN_CHUNK]
        session.execute(
            delete(EscalationEvaluation).where(EscalationEvaluation.account_id.in_(chunk))
        )
        known = digests_of(session, digests, chunk)
        rows = [
            {
                "account_id": aid,
                "inputs_digest": known.get(aid),
                "book_norms": [n.as_row() for n in norms[aid]],
                "evaluated_at": now,
            }
            for aid in chunk
        ]
        session.execute(insert(EscalationEvaluation), rows)


def book_digest(session: Session, as_of: date, config: EscalationConfig) -> str:
    """What the repeated-issue rule's book topic mix is read from (every account's tickets of
    its window, the rule's tag settings), as a digest; "" when the rule does not compare with
    the book.

    A sum in the database, not a read of the tickets: which tickets are in the window (count,
    sum of ids) and what they say (the sum and count of their `content_key`, a fingerprint of
    subject and tags less the band tags write-back moves). So an agent's reply or status
    change, or a band tag pulsehub wrote and read back, leaves it as it was, where the ticket's
    `updated_at` (which this read before) moved with every one of them and made each hourly
    run re-read the window. A ticket stored before the key existed has none (NULL) and gets
    one when it is next pulled: the count of keys moves, and the mix is read once more."""
    repeat = config.rule("repeated_issue")
    if not (repeat.enabled and repeat.book_norm):
        return ""
    end = end_of_day(as_of)
    start = end - timedelta(days=repeat.window_days + repeat.baseline_days)
    row = session.execute(
        select(
            func.count(), func.sum(Ticket.id), func.sum(Ticket.content_key),
            func.count(Ticket.content_key),
        )
        .where(Ticket.account_id.is_not(None))
        .where(Ticket.created_at >= start, Ticket.created_at < end)
    ).one()  # fmt: skip
    text = f"{start.isoformat()}|{tuple(int(v or 0) for v in row)}|{mix_settings(config)}"
    return hashlib.sha256(text.encode()).hexdigest()


def cluster_capable(session: Session, as_of: date, config: EscalationConfig) -> set[int]:
    """Accounts with enough tickets in the repeated-issue window to hold a cluster."""
    repeat = config.rule("repeated_issue")
    if not repeat.enabled:
        return set()
    end = end_of_day(as_of)
    busy = (
        select(Ticket.account_id)
        .where(Ticket.account_id.is_not(None))
        .where(Ticket.created_at >= end - timedelta(days=repeat.window_days))
        .where(Ticket.created_at < end)
        .group_by(Ticket.account_id)
        .having(func.count() >= repeat.min_tickets)
    )
    return set(session.scalars(busy))
