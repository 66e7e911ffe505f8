"""The retention read model as plain JSON-ready data: what `/api/retention` serves and what
the page and `pulsehub report` show (one shape, so the three cannot disagree)."""

from __future__ import annotations

from typing import Any

from reporting.cost_to_serve import CostRow
from reporting.retention import GroupRow, Period, Retention
from reporting.retention_metrics import Movement, RenewalCounts


def _r(v: float | None, digits: int = 4) -> float | None:
    return None if v is None else round(v, digits)


def bridge(m: Movement) -> dict[str, Any]:
    return {
        "start_arr": round(m.start_arr, 2),
        "expansion": round(m.expansion, 2),
        "contraction": round(m.contraction, 2),
        "churn": round(m.churn, 2),
        "new_arr": round(m.new_arr, 2),
        "start_logos": m.start_logos,
        "churned_logos": m.churned_logos,
        "new_logos": m.new_logos,
        "grr": _r(m.grr),
        "nrr": _r(m.nrr),
        "logo_churn": _r(m.logo_churn),
        "revenue_churn": _r(m.revenue_churn),
    }


def renewals(c: RenewalCounts) -> dict[str, Any]:
    return {
        "on_time": c.on_time,
        "late": c.late,
        "lost": c.lost,
        "lapsed": c.lapsed,
        "pending": c.pending,
        "moved_within_family": c.moved,
        "decided": c.decided,
        "rate": _r(c.rate),
        "on_time_rate": _r(c.on_time_rate),
        "arr_due": round(c.arr_due, 2),
        "arr_renewed": round(c.arr_renewed, 2),
    }


def period(p: Period) -> dict[str, Any]:
    return {
        "label": p.label,
        "start": p.start.isoformat(),
        "end_exclusive": p.end.isoformat(),
        **bridge(p.bridge),
        "renewals": renewals(p.renewals),
    }


def cost(c: CostRow) -> dict[str, Any]:
    return {
        "segment": c.group,
        "customers": c.customers,
        "average_arr": round(c.avg_arr, 2),
        "tickets": c.effort.tickets,
        "replies": c.effort.replies,
        "resolution_hours": round(c.effort.resolution_minutes / 60.0, 1),
        "handle_hours": c.handle_hours,
        "escalations": c.effort.escalations,
        "csm_touches": c.effort.touches,
        "support_cost": c.support_cost,
        "escalation_cost": c.escalation_cost,
        "csm_cost": c.csm_cost,
        "total_cost": round(c.total, 2),
        "cost_per_customer": _r(c.per_customer, 2),
        "cost_per_arr_dollar": _r(c.per_arr_dollar),
    }


def group(g: GroupRow) -> dict[str, Any]:
    out = {
        "name": g.name,
        **bridge(g.bridge),
        "renewals": renewals(g.renewals),
        "quarters": [period(p) for p in g.quarters],
    }
    if g.cost is not None:
        out["cost"] = cost(g.cost)
    return out


def retention_to_dict(r: Retention) -> dict[str, Any]:
    return {
        "as_of": r.as_of.isoformat(),
        "currency": r.currency,
        "grace_days": r.grace_days,
        "last_quarter": period(r.last_quarter),
        "trailing_12_months": period(r.trailing),
        "quarters": [period(p) for p in r.quarters],
        "months": [period(p) for p in r.months],
        "by": {name: [group(g) for g in rows] for name, rows in r.by.items()},
        "cohorts": [
            {
                "cohort": c.cohort,
                "logos": c.logos,
                "start_arr": c.start_arr,
                "logo_retention": [_r(v) for v in c.logo_retention],
                "revenue_retention": [_r(v) for v in c.revenue_retention],
            }
            for c in r.cohorts
        ],
        "cost_to_serve": [cost(c) for c in r.cost],
    }
