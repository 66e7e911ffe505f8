"""Per-account facts for the escalation rules, read from the unified model (read-only SQL).

Everything is evaluated "as of" a day, so the same code serves the nightly run and a replay
over history: a ticket counts as open if it was created by the end of that day and not
solved by then; snapshots after that day are ignored.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from pydantic import BaseModel
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from escalation.clusters import IssueCluster, TicketFact, count_matching, find_clusters
from escalation.config import EscalationConfig, load_rules
from model.tables import Account, Contact, HealthSnapshot, Opportunity, Ticket

log = logging.getLogger(__name__)

SOLVED = frozenset({"solved", "closed", "deleted"})
TICKET_COLUMNS = (
    Ticket.zd_id,
    Ticket.account_id,
    Ticket.subject,
    Ticket.status,
    Ticket.priority,
    Ticket.tags,
    Ticket.created_at,
    Ticket.solved_at,
    Ticket.first_reply_minutes,
    Ticket.csat,
    Ticket.csat_at,
)
HISTORY_DAYS = 200


class SnapshotFact(BaseModel):
    as_of: date
    score: float | None = None
    band: str
    trend_28d: float | None = None
    sharp_drop: bool = False
    reasons: list[Any] = []
    contradictions: list[Any] = []
    risk_level: str | None = None
    risk_drivers: list[Any] = []


class ContactFact(BaseModel):
    sf_id: str
    name: str | None = None
    title: str | None = None
    is_executive: bool = False
    left_at: datetime | None = None


class AccountFacts(BaseModel):
    """What the rules may know about one account on one day."""

    account_id: int
    name: str
    sf_id: str | None = None
    tier: str | None = None
    segment: str | None = None
    arr: float | None = None
    renewal_date: date | None = None
    renewal_amount: float | None = None
    owner_sf_id: str | None = None
    owner_name: str | None = None
    as_of: date
    latest: SnapshotFact | None = None
    previous: SnapshotFact | None = None
    baseline_28d: SnapshotFact | None = None
    band_before: str | None = None
    open_tickets: list[TicketFact] = []
    clusters: list[IssueCluster] = []
    csat_recent_good: int = 0
    csat_recent_bad: int = 0
    csat_prior_good: int = 0
    csat_prior_bad: int = 0
    champions_left: list[ContactFact] = []
    executive_contacts: int = 0

    @property
    def days_to_renewal(self) -> int | None:
        return None if self.renewal_date is None else (self.renewal_date - self.as_of).days

    @property
    def arr_at_stake(self) -> float:
        return max(self.arr or 0.0, self.renewal_amount or 0.0)

    @property
    def open_urgent(self) -> list[TicketFact]:
        return [t for t in self.open_tickets if t.priority == "urgent"]


def end_of_day(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), time.min, tzinfo=UTC)


def gather_facts(
    session: Session,
    as_of: date,
    account_ids: Iterable[int] | None = None,
    config: EscalationConfig | None = None,
) -> dict[int, AccountFacts]:
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
    _add_tickets(session, facts, ids, as_of, cfg)
    _add_contacts(session, facts, ids, as_of, cfg)
    log.debug("gathered escalation facts for %s accounts as of %s", len(facts), as_of)
    return facts


def _account_facts(a: Account, as_of: date) -> AccountFacts:
    return AccountFacts(
        account_id=a.id,
        name=a.name,
        sf_id=a.sf_id,
        tier=a.tier,
        segment=a.segment,
        arr=a.arr,
        renewal_date=a.renewal_date,
        owner_sf_id=a.owner_sf_id,
        owner_name=a.owner_name,
        as_of=as_of,
    )


def _snapshot(row: HealthSnapshot) -> SnapshotFact:
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


def _add_snapshots(
    session: Session, facts: dict[int, AccountFacts], ids: list[int], as_of: date
) -> None:
    rows = session.scalars(
        select(HealthSnapshot)
        .where(HealthSnapshot.account_id.in_(ids))
        .where(HealthSnapshot.as_of <= as_of)
        .where(HealthSnapshot.as_of > as_of - timedelta(days=HISTORY_DAYS))
        .order_by(HealthSnapshot.account_id, HealthSnapshot.as_of.desc())
    ).all()
    history: dict[int, list[HealthSnapshot]] = defaultdict(list)
    for row in rows:
        history[row.account_id].append(row)
    for account_id, snaps in history.items():
        f = facts[account_id]
        f.latest = _snapshot(snaps[0])
        f.previous = _snapshot(snaps[1]) if len(snaps) > 1 else None
        cutoff = snaps[0].as_of - timedelta(days=28)
        base = next((s for s in snaps if s.as_of <= cutoff), None)
        f.baseline_28d = _snapshot(base) if base is not None else None
        f.band_before = next((s.band for s in snaps if s.band != snaps[0].band), None)


def _add_renewals(
    session: Session, facts: dict[int, AccountFacts], ids: list[int], as_of: date
) -> None:
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


def _add_tickets(
    session: Session,
    facts: dict[int, AccountFacts],
    ids: list[int],
    as_of: date,
    cfg: EscalationConfig,
) -> None:
    """Open tickets, CSAT counts, and repeated-issue clusters with their baseline rate."""
    end = end_of_day(as_of)
    repeat = cfg.rule("repeated_issue")
    csat_days = cfg.rule("csat_turning_bad").window_days
    window_start = end - timedelta(days=repeat.window_days)
    baseline_start = window_start - timedelta(days=repeat.baseline_days)
    csat_start = end - timedelta(days=3 * csat_days)
    rows = session.execute(
        select(*TICKET_COLUMNS)
        .where(Ticket.account_id.in_(ids), Ticket.created_at < end)
        .where(
            or_(
                Ticket.solved_at.is_(None),
                Ticket.solved_at >= end,
                Ticket.created_at >= baseline_start,
                Ticket.csat_at >= csat_start,
            )
        )
    ).all()
    own_tags = set(cfg.zendesk.tags)
    recent: dict[int, list[TicketFact]] = defaultdict(list)
    baseline: dict[int, list[TicketFact]] = defaultdict(list)
    for t in rows:
        tags = list(t.tags or [])
        if own_tags.intersection(tags) or t.account_id is None:
            continue
        f = facts[t.account_id]
        fact = TicketFact.model_construct(
            zd_id=t.zd_id,
            subject=t.subject or "",
            status=t.status,
            priority=t.priority,
            tags=tags,
            created_at=t.created_at,
            solved_at=t.solved_at,
            first_reply_minutes=t.first_reply_minutes,
            age_hours=(end - t.created_at).total_seconds() / 3600,
        )
        # open that day: not solved by then (a ticket solved later was open on a replayed day)
        if t.solved_at >= end if t.solved_at is not None else t.status not in SOLVED:
            f.open_tickets.append(fact)
        if t.created_at >= window_start:
            recent[t.account_id].append(fact)
        elif t.created_at >= baseline_start:
            baseline[t.account_id].append(fact)
        if t.csat in ("good", "bad") and t.csat_at is not None and csat_start <= t.csat_at < end:
            is_recent = t.csat_at >= end - timedelta(days=csat_days)
            attr = f"csat_{'recent' if is_recent else 'prior'}_{t.csat}"
            setattr(f, attr, getattr(f, attr) + 1)
    for account_id, tickets in recent.items():
        facts[account_id].clusters = _clusters(tickets, baseline[account_id], cfg)
    for f in facts.values():
        f.open_tickets.sort(key=lambda x: x.zd_id)


def _clusters(
    recent: list[TicketFact], before: list[TicketFact], cfg: EscalationConfig
) -> list[IssueCluster]:
    """Clusters of the window, each with how many such tickets the window would normally hold."""
    repeat = cfg.rule("repeated_issue")
    excluded = {t.lower() for t in repeat.exclude_tags}
    recent = [t for t in recent if not excluded.intersection(g.lower() for g in t.tags)]
    before = [t for t in before if not excluded.intersection(g.lower() for g in t.tags)]
    clusters = find_clusters(
        sorted(recent, key=lambda x: x.zd_id),
        min_tickets=repeat.min_tickets,
        similarity=repeat.similarity,
        ignore_tags=cfg.ignore_tags,
    )
    if not repeat.baseline_days:
        return clusters
    by_id = {t.zd_id: t for t in recent}
    for c in clusters:
        c.baseline_count = count_matching(
            [by_id[i] for i in c.ticket_ids],
            before,
            similarity=repeat.similarity,
            ignore_tags=cfg.ignore_tags,
        )
        c.expected = round(c.baseline_count * repeat.window_days / repeat.baseline_days, 2)
    return clusters


def _add_contacts(
    session: Session,
    facts: dict[int, AccountFacts],
    ids: list[int],
    as_of: date,
    cfg: EscalationConfig,
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
                    sf_id=c.sf_id,
                    name=c.name,
                    title=c.title,
                    is_executive=c.is_executive,
                    left_at=left,
                )
            )
    for f in facts.values():
        f.champions_left.sort(key=lambda x: x.sf_id)
