"""Replay the rules over history to measure them: volume per 1,000 accounts and churn lead time.

Runs gather_facts -> evaluate -> reconcile every `step_days` from `start` to `end` against the
snapshots and tickets already in the model, on an emptied Escalation table inside the
caller's transaction; the caller rolls back, so live escalations are never touched. Churn is
a Renewal opportunity closed lost; an account counts as "escalated first" if an escalation
opened before its churn date (within `lead_window_days`).
"""

from __future__ import annotations

import logging
import statistics
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta

from pydantic import BaseModel
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from escalation.config import EscalationConfig
from escalation.facts import end_of_day, gather_facts
from escalation.lifecycle import reconcile
from escalation.report import episodes_of
from escalation.rules import evaluate
from model.tables import Escalation, HealthSnapshot, Opportunity

log = logging.getLogger(__name__)


class RuleSignal(BaseModel):
    """How telling one rule is: accounts it fired for, and how many of those churned after."""

    accounts: int
    churned_after: int
    median_lead_days: float | None


class ReplayResult(BaseModel):
    start: date
    end: date
    step_days: int
    accounts: int
    episodes: int
    per_1000_accounts: float
    per_1000_accounts_per_30d: float
    by_rule: dict[str, int]
    by_severity: dict[str, int]
    churned: int
    churned_escalated_first: int
    lead_days: list[int]
    lead_days_median: float | None
    first_rule_before_churn: dict[str, int]
    escalated_accounts: int
    escalated_accounts_churned: int
    per_rule_accounts: dict[str, RuleSignal]


def churn_dates(session: Session, start: date, end: date) -> dict[int, date]:
    """Accounts whose renewal was lost in [start, end], with the (earliest) loss date."""
    rows = session.execute(
        select(Opportunity.account_id, Opportunity.close_date)
        .where(Opportunity.type == "Renewal", Opportunity.is_deleted.is_(False))
        .where(Opportunity.is_closed.is_(True), Opportunity.is_won.is_(False))
        .where(Opportunity.close_date >= start, Opportunity.close_date <= end)
    ).all()
    churn: dict[int, date] = {}
    for account_id, day in rows:
        if account_id is not None and day is not None:
            churn[account_id] = min(day, churn.get(account_id, day))
    return churn


def replay(
    session: Session,
    start: date,
    end: date,
    config: EscalationConfig,
    *,
    step_days: int = 7,
    lead_window_days: int = 180,
) -> ReplayResult:
    """Run the rules every `step_days` over [start, end]; leaves the session dirty (roll back)."""
    if step_days < 1 or end < start:
        raise ValueError("need start <= end and step_days >= 1")
    session.execute(delete(Escalation))
    churn = churn_dates(session, start, end)
    day = start
    while day <= end:
        facts = gather_facts(session, day, None, config)
        live = {a: f for a, f in facts.items() if churn.get(a, end + timedelta(1)) > day}
        decisions = {a: evaluate(f, config) for a, f in live.items()}
        now = end_of_day(day) - timedelta(seconds=1)
        reconcile(session, decisions, now, config)
        day += timedelta(days=step_days)
    session.flush()
    return _measure(session, start, end, step_days, churn, lead_window_days)


def _measure(
    session: Session,
    start: date,
    end: date,
    step_days: int,
    churn: dict[int, date],
    lead_window_days: int,
) -> ReplayResult:
    covered = session.scalars(
        select(HealthSnapshot.account_id)
        .where(HealthSnapshot.as_of >= start, HealthSnapshot.as_of <= end)
        .distinct()
    ).all()
    accounts = len(set(covered)) or 1
    first_by_account: dict[int, tuple[datetime, str]] = {}
    by_rule: Counter[str] = Counter()
    by_sev: Counter[str] = Counter()
    episodes = 0
    for esc in session.scalars(select(Escalation)):
        for ep in episodes_of(esc, ""):
            episodes += 1
            by_rule[ep.rule] += 1
            by_sev[ep.severity] += 1
            seen = first_by_account.get(ep.account_id)
            if seen is None or ep.opened_at < seen[0]:
                first_by_account[ep.account_id] = (ep.opened_at, ep.rule)
    lead: list[int] = []
    first_rules: Counter[str] = Counter()
    before: dict[int, list[tuple[datetime, str]]] = defaultdict(list)
    for esc in session.scalars(select(Escalation)):
        for ep in episodes_of(esc, ""):
            lost = churn.get(ep.account_id)
            if lost is not None and 0 < (lost - ep.opened_at.date()).days <= lead_window_days:
                before[ep.account_id].append((ep.opened_at, ep.rule))
    per_rule: dict[str, dict[int, datetime]] = defaultdict(dict)
    for esc in session.scalars(select(Escalation)):
        for ep in episodes_of(esc, ""):
            seen_at = per_rule[ep.rule].get(ep.account_id)
            if seen_at is None or ep.opened_at < seen_at:
                per_rule[ep.rule][ep.account_id] = ep.opened_at
    signals = {}
    for rule, firsts in sorted(per_rule.items()):
        leads = [
            (churn[a] - at.date()).days
            for a, at in firsts.items()
            if a in churn and 0 < (churn[a] - at.date()).days <= lead_window_days
        ]
        signals[rule] = RuleSignal(
            accounts=len(firsts),
            churned_after=len(leads),
            median_lead_days=statistics.median(leads) if leads else None,
        )
    for account_id, eps in before.items():
        opened, rule = min(eps)
        lead.append((churn[account_id] - opened.date()).days)
        first_rules[rule] += 1
    days = (end - start).days + 1
    return ReplayResult(
        start=start,
        end=end,
        step_days=step_days,
        accounts=accounts,
        episodes=episodes,
        per_1000_accounts=round(1000 * episodes / accounts, 1),
        per_1000_accounts_per_30d=round(1000 * episodes / accounts * 30 / days, 1),
        by_rule=dict(by_rule.most_common()),
        by_severity=dict(sorted(by_sev.items())),
        churned=len(churn),
        churned_escalated_first=len(before),
        lead_days=sorted(lead),
        lead_days_median=statistics.median(lead) if lead else None,
        first_rule_before_churn=dict(first_rules.most_common()),
        escalated_accounts=len(first_by_account),
        escalated_accounts_churned=sum(1 for a in first_by_account if a in churn),
        per_rule_accounts=signals,
    )
