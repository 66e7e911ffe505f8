"""Per-account facts for the escalation rules, read from the unified model (read-only SQL).

Everything is evaluated "as of" a day, so the same code serves the nightly run and a replay
over history: a ticket counts as open if it was created by the end of that day and not
solved by then; snapshots after that day are ignored.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from escalation.config import EscalationConfig, load_rules
from escalation.fact_models import AccountFacts, ContactFact, FactsById, SnapshotFact, end_of_day
from escalation.ticket_facts import add_ticket_facts
from model.tables import Account, Contact, Escalation, HealthSnapshot, Opportunity

log = logging.getLogger(__name__)

__all__ = ["AccountFacts", "ContactFact", "SnapshotFact", "end_of_day", "gather_facts"]

HISTORY_DAYS = 200


def gather_facts(
    session: Session,
    as_of: date,
    account_ids: Iterable[int] | None = None,
    config: EscalationConfig | None = None,
) -> FactsById:
    """Facts for every live account (or the given ids) as of the end of `as_of`."""
    cfg = config or load_rules()
    query = select(Account).where(Account.is_deleted.is_(False))
    if account_ids is not None:
        query = query.where(Account.id.in_(list(account_ids)))
    accounts = session.scalars(query.order_by(Account.id)).all()
    facts = {a.id: _account_facts(a, as_of) for a in accounts}
    if not facts:
        return facts
    ids = list(facts)
    _add_snapshots(session, facts, ids, as_of)
    _add_renewals(session, facts, ids, as_of)
    add_ticket_facts(session, facts, ids, as_of, cfg)
    _add_contacts(session, facts, ids, as_of, cfg)
    if cfg.one_per_account:
        _add_active_rules(session, facts, ids)
    log.debug("gathered escalation facts for %s accounts as of %s", len(facts), as_of)
    return facts


def _account_facts(a: Account, as_of: date) -> AccountFacts:
    return AccountFacts(
        account_id=a.id,
        name=a.name,
        crm_id=a.crm_id,
        tier=a.tier,
        segment=a.segment,
        arr=a.arr,
        renewal_date=a.renewal_date,
        owner_crm_id=a.owner_crm_id,
        owner_name=a.owner_name,
        as_of=as_of,
    )


SNAPSHOT_FACT_COLUMNS = (
    HealthSnapshot.id, HealthSnapshot.as_of, HealthSnapshot.score, HealthSnapshot.band,
    HealthSnapshot.trend_28d, HealthSnapshot.sharp_drop, HealthSnapshot.reasons,
    HealthSnapshot.contradictions, HealthSnapshot.risk_level, HealthSnapshot.risk_drivers,
)  # fmt: skip
IN_CHUNK = 900  # ids per IN list (SQLite's bound-parameter limit is 999 on old builds)


def _snapshot(row: Any) -> SnapshotFact:
    """A snapshot row (any object with the `SNAPSHOT_FACT_COLUMNS` attributes) as a fact."""
    return SnapshotFact(
        as_of=row.as_of,
        score=row.score,
        band=row.band,
        trend_28d=row.trend_28d,
        sharp_drop=bool(row.sharp_drop),
        reasons=list(row.reasons or []),
        contradictions=list(row.contradictions or []),
        risk_level=row.risk_level,
        risk_drivers=list(row.risk_drivers or []),
    )


def _add_snapshots(session: Session, facts: FactsById, ids: list[int], as_of: date) -> None:
    """Latest, previous and 28-day-old snapshots, and the band before the current one.

    The history is read as (id, day, band) only; the three snapshots used are then loaded
    whole. With a snapshot a day, 200 days of full rows (signals and reasons JSON) per
    account were most of this step's time."""
    rows = session.execute(
        select(HealthSnapshot.id, HealthSnapshot.account_id, HealthSnapshot.as_of, HealthSnapshot.band)
        .where(HealthSnapshot.account_id.in_(ids))
        .where(HealthSnapshot.as_of <= as_of)
        .where(HealthSnapshot.as_of > as_of - timedelta(days=HISTORY_DAYS))
        .order_by(HealthSnapshot.account_id, HealthSnapshot.as_of.desc())
    ).all()  # fmt: skip
    history: dict[int, list[Any]] = defaultdict(list)
    for row in rows:
        history[row.account_id].append(row)
    picks: dict[int, tuple[int, int | None, int | None]] = {}
    for account_id, snaps in history.items():
        cutoff = snaps[0].as_of - timedelta(days=28)
        base = next((s for s in snaps if s.as_of <= cutoff), None)
        previous = snaps[1].id if len(snaps) > 1 else None
        picks[account_id] = (snaps[0].id, previous, None if base is None else base.id)
        facts[account_id].band_before = next(
            (s.band for s in snaps if s.band != snaps[0].band), None
        )
    del rows, history
    wanted = sorted({i for p in picks.values() for i in p if i is not None})
    loaded: dict[int, SnapshotFact] = {}
    for start in range(0, len(wanted), IN_CHUNK):
        chunk = wanted[start : start + IN_CHUNK]
        for row in session.execute(
            select(*SNAPSHOT_FACT_COLUMNS).where(HealthSnapshot.id.in_(chunk))
        ):
            loaded[row.id] = _snapshot(row)
    for account_id, (latest, previous, base_id) in picks.items():
        f = facts[account_id]
        f.latest = loaded[latest]
        f.previous = None if previous is None else loaded[previous]
        f.baseline_28d = None if base_id is None else loaded[base_id]


def _add_renewals(session: Session, facts: FactsById, ids: list[int], as_of: date) -> None:
    rows = session.execute(
        select(Opportunity.account_id, Opportunity.close_date, Opportunity.amount)
        .where(Opportunity.account_id.in_(ids))
        .where(Opportunity.type == "Renewal", Opportunity.is_deleted.is_(False))
        .where(Opportunity.close_date >= as_of)
        .where(
            or_(
                Opportunity.is_closed.is_(False),
                and_(Opportunity.is_won.is_(False), Opportunity.close_date > as_of),
            )
        )
        .order_by(Opportunity.account_id, Opportunity.close_date)
    ).all()
    seen: set[int] = set()
    for account_id, close_date, amount in rows:
        if account_id in seen or account_id is None:
            continue
        seen.add(account_id)
        f = facts[account_id]
        f.renewal_amount = amount
        if f.renewal_date is None or f.renewal_date < as_of:
            f.renewal_date = close_date


def _add_contacts(
    session: Session, facts: FactsById, ids: list[int], as_of: date, cfg: EscalationConfig
) -> None:
    """Executives still there, and champions who left within the look-back.

    The model keeps no history of the champion flag, so a departure is a champion contact
    deleted in the window, or a contact whose title/role carries a departure marker (how
    many CRMs record it: the contact stays, its title becomes "(left company)") last
    modified in the window.
    """
    rule = cfg.rule("champion_left")
    end = end_of_day(as_of)
    since = end - timedelta(days=rule.lookback_days)
    markers = [m.lower() for m in rule.departure_markers]
    marked = [func.lower(col).contains(m) for m in markers for col in (Contact.title, Contact.role)]
    rows = session.scalars(
        select(Contact)
        .where(Contact.account_id.in_(ids))
        .where(or_(Contact.is_champion.is_(True), Contact.is_executive.is_(True), *marked))
    ).all()
    for c in rows:
        if c.account_id is None:
            continue
        f = facts[c.account_id]
        if c.is_executive and not c.is_deleted:
            f.executive_contacts += 1
        text = f"{c.title or ''} {c.role or ''}".lower()
        departed = (c.is_champion and c.is_deleted) or any(m in text for m in markers)
        left = c.source_modstamp
        if departed and left is not None and since <= left < end:
            f.champions_left.append(
                ContactFact(
                    crm_id=c.crm_id,
                    name=c.name,
                    title=c.title,
                    is_executive=c.is_executive,
                    left_at=left,
                )
            )
    for f in facts.values():
        f.champions_left.sort(key=lambda x: x.crm_id)


def _add_active_rules(session: Session, facts: FactsById, ids: list[int]) -> None:
    """Rules with an open or acknowledged escalation on each account (for `one_per_account`)."""
    rows = session.execute(
        select(Escalation.account_id, Escalation.rule)
        .where(Escalation.account_id.in_(ids))
        .where(Escalation.state.in_(("open", "acknowledged")))
        .distinct()
    ).all()
    for account_id, rule in rows:
        facts[account_id].active_rules.append(rule)
    for f in facts.values():
        f.active_rules.sort()
