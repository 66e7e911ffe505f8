"""The retention read model: GRR/NRR, churn, renewal rate, cohorts and cost-to-serve.

Loads accounts and closed opportunities, replays them into ARR history (retention_arr),
rolls children into their top-level parent (families) and measures windows
(retention_metrics). The page, `pulsehub report` and `/api/retention` all read this one
`Retention` object, so they show the same figures.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from model.lifecycle import is_churned_stage
from model.tables import Account, Opportunity
from reporting.common import as_of_day
from reporting.cost_to_serve import CostRow, Effort, cost_by_group, load_effort
from reporting.retention_arr import (
    LOST,
    MOVED,
    Customer,
    Deal,
    RenewalDue,
    account_history,
    add_months,
    close_stage_churn,
)
from reporting.retention_config import RetentionConfig
from reporting.retention_metrics import (
    CohortRow,
    Family,
    Movement,
    RenewalCounts,
    cohort_table,
    group_by,
    last_months,
    last_quarters,
    movement,
    quarter_label,
    renewal_counts,
)

QUARTERS, MONTHS = 8, 12


@dataclass(slots=True)
class Period:
    """One window's ARR bridge and renewals due."""

    label: str
    start: dt.date
    end: dt.date  # exclusive
    bridge: Movement
    renewals: RenewalCounts


@dataclass(slots=True)
class GroupRow:
    """One segment / tier / CSM / cohort over the trailing twelve months, and per quarter."""

    name: str
    bridge: Movement
    renewals: RenewalCounts
    cost: CostRow | None = None
    quarters: list[Period] = field(default_factory=list)


@dataclass(slots=True)
class Retention:
    as_of: dt.date
    grace_days: int
    last_quarter: Period
    trailing: Period
    quarters: list[Period]
    months: list[Period]
    by: dict[str, list[GroupRow]] = field(default_factory=dict)
    cohorts: list[CohortRow] = field(default_factory=list)
    cost: list[CostRow] = field(default_factory=list)
    currency: str = "USD"


def build_families(
    customers: Sequence[Customer], deals: Sequence[Deal], config: RetentionConfig, as_of: dt.date
) -> tuple[list[Family], list[RenewalDue], dict[int, int]]:
    """Every account's ARR line and renewals, grouped under its top-level parent."""
    by_id = {c.id: c for c in customers}
    family_of = {c.id: _root(c.id, by_id) for c in customers}
    deals_of: dict[int, list[Deal]] = {}
    for d in deals:
        deals_of.setdefault(d.account_id, []).append(d)
    families: dict[int, Family] = {}
    renewals: list[RenewalDue] = []
    for c in customers:
        line, due = account_history(c.id, deals_of.get(c.id, []), config.renewals, as_of)
        if c.id not in deals_of and c.arr and not c.churned_stage:
            line.set(c.customer_since or dt.date(1970, 1, 1), c.arr)  # no deals: the row's ARR
        if c.churned_stage:
            close_stage_churn(line, due, c.id, as_of)
        fam = families.setdefault(family_of[c.id], Family(by_id[family_of[c.id]]))
        fam.lines.append(line)
        fam.members.add(c.id)
        renewals.extend(due)
    return list(families.values()), _moves(renewals, families, family_of), family_of


def _moves(
    renewals: list[RenewalDue], families: dict[int, Family], family_of: dict[int, int]
) -> list[RenewalDue]:
    """A child's lost renewal on a day its family's ARR did not fall is a move in the family."""
    out = []
    for r in renewals:
        fam = families[family_of[r.account_id]]
        if r.outcome == LOST and r.closed is not None and len(fam.members) > 1:
            day_after = r.closed + dt.timedelta(days=1)
            if fam.arr_before(day_after) >= fam.arr_before(r.closed):
                r = RenewalDue(r.account_id, r.due, MOVED, r.arr_due, r.closed)
        out.append(r)
    return out


def _root(aid: int, by_id: dict[int, Customer]) -> int:
    """The top-level parent (a cycle or a missing parent stops the walk)."""
    seen = {aid}
    while (parent := by_id[aid].parent_id) is not None and parent in by_id and parent not in seen:
        seen.add(parent)
        aid = parent
    return aid


def _period(
    label: str, start: dt.date, end: dt.date, fams: list[Family], due: list[RenewalDue]
) -> Period:
    return Period(label, start, end, movement(fams, start, end), renewal_counts(due, start, end))


GROUPS: dict[str, Callable[[Family], str | None]] = {
    "segment": lambda f: f.root.segment,
    "tier": lambda f: f.root.tier,
    "csm": lambda f: f.root.csm,
    "cohort": lambda f: f.cohort(),
}


def compute_retention(
    customers: Sequence[Customer],
    deals: Sequence[Deal],
    config: RetentionConfig,
    as_of: dt.date,
    effort: dict[int, Effort] | None = None,
) -> Retention:
    """Every figure of the retention page from plain rows (pure; `effort` priced if given)."""
    families, renewals, family_of = build_families(customers, deals, config, as_of)
    end = as_of + dt.timedelta(days=1)
    t_start = add_months(end, -12)
    quarters = [
        _period(quarter_label(s), s, e, families, renewals)
        for s, e in last_quarters(as_of, QUARTERS)
    ]
    months = [
        _period(f"{s:%Y-%m}", s, e, families, renewals) for s, e in last_months(as_of, MONTHS)
    ]
    trailing = _period("trailing 12 months", t_start, end, families, renewals)
    out = Retention(
        as_of=as_of,
        grace_days=config.renewals.grace_days,
        last_quarter=quarters[-1],
        trailing=trailing,
        quarters=quarters,
        months=months,
        cohorts=cohort_table(families, as_of),
        currency=config.cost_rates.currency,
    )
    first = min(t_start, quarters[0].start)
    by_root: dict[int, list[RenewalDue]] = {}
    for due in renewals:
        if first <= due.due < end:
            by_root.setdefault(family_of[due.account_id], []).append(due)
    for name, key in GROUPS.items():
        rows = []
        for group, fams in group_by(families, key).items():
            bridge = movement(fams, t_start, end)
            dues = [d for f in fams for d in by_root.get(f.root.id, ())]
            counts = renewal_counts(dues, t_start, end)
            if bridge.start_arr or counts.decided:  # a group of new logos only has no rate
                row = GroupRow(group, bridge, counts)
                row.quarters = [_period(q.label, q.start, q.end, fams, dues) for q in quarters]
                rows.append(row)
        out.by[name] = rows
    if effort is not None:
        out.cost = _cost(families, effort, config, t_start, end)
        costs = {c.group: c for c in out.cost}
        for row in out.by["segment"]:
            row.cost = costs.get(row.name)
    return out


def _cost(
    families: list[Family], effort: dict[int, Effort], config: RetentionConfig,
    start: dt.date, end: dt.date,
) -> list[CostRow]:  # fmt: skip
    """Cost-to-serve per segment over the window: customers with ARR at its start or end."""
    groups: dict[str, list[int]] = {}
    customers: dict[str, int] = {}
    avg_arr: dict[str, float] = {}
    for name, fams in group_by(families, GROUPS["segment"]).items():
        served = [f for f in fams if f.arr_before(start) > 0 or f.arr_before(end) > 0]
        if not served:
            continue
        groups[name] = [m for f in served for m in f.members]
        customers[name] = len(served)
        avg_arr[name] = sum((f.arr_before(start) + f.arr_before(end)) / 2 for f in served)
    return cost_by_group(effort, groups, customers, avg_arr, config.cost_rates)


def load_customers(session: Session) -> list[Customer]:
    rows = session.execute(
        select(
            Account.id, Account.parent_id, Account.segment, Account.tier, Account.owner_name,
            Account.customer_since, Account.arr, Account.lifecycle_stage,
        ).where(Account.is_deleted.is_(False))
    )  # fmt: skip
    return [
        Customer(aid, parent, seg, tier, csm, since, arr, is_churned_stage(stage))
        for aid, parent, seg, tier, csm, since, arr, stage in rows
    ]


def load_deals(session: Session, as_of: dt.date) -> list[Deal]:
    rows = session.execute(
        select(
            Opportunity.account_id, Opportunity.type, Opportunity.amount, Opportunity.close_date,
            Opportunity.is_won, Opportunity.term_months,
        ).where(
            Opportunity.is_deleted.is_(False), Opportunity.is_closed.is_(True),
            Opportunity.account_id.is_not(None), Opportunity.close_date.is_not(None),
            Opportunity.close_date <= as_of,
        )
    )  # fmt: skip
    return [
        Deal(aid, typ, amt, day, bool(won), term)
        for aid, typ, amt, day, won, term in rows
        if aid is not None and day is not None
    ]


def load_retention(
    session: Session, config: RetentionConfig, as_of: dt.date | None = None
) -> Retention:
    """The retention read model as of the dashboard's day."""
    day = as_of or as_of_day(session)
    end = day + dt.timedelta(days=1)
    effort = load_effort(session, add_months(end, -12), end)
    return compute_retention(load_customers(session), load_deals(session, day), config, day, effort)
