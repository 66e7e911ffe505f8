"""The Retention page: GRR/NRR, churn, renewal rate, cohorts and cost-to-serve (wiring only)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup
from sqlalchemy.orm import Session

from pulsehub.web import charts
from pulsehub.web.deps import DB, User
from pulsehub.web.rendering import pct, render
from reporting.common import as_of_day, per_run
from reporting.retention import Retention, load_retention
from reporting.retention_config import RetentionConfig

router = APIRouter()


def retention_for(request: Request, session: Session) -> Retention:
    """The read model for the dashboard's day, computed once per sync run."""
    config: RetentionConfig = request.app.state.retention
    day = as_of_day(session)
    return per_run(session, ("retention", day), lambda: load_retention(session, config, day))


def retention_charts(r: Retention) -> dict[str, Markup]:
    labels = [p.label for p in r.quarters]
    nrrs = [p.bridge.nrr for p in r.quarters]
    nrrs += [p.bridge.nrr for g in r.by.get("segment", []) for p in g.quarters]
    most = max([0.0, *(v or 0.0 for v in nrrs)])
    top = next((t for t in (1.2, 1.6, 2.0, 4.0) if most <= t), most)  # round ticks: 30%, 40%..
    return {
        "quarters": charts.line_chart(
            labels,
            {"NRR": [p.bridge.nrr for p in r.quarters], "GRR": [p.bridge.grr for p in r.quarters]},
            title="GRR and NRR by quarter", ymax=top, fmt=pct, height=230,
        ),
        **{
            f"segment_{kind}": charts.line_chart(
                labels,
                {g.name: [getattr(p.bridge, kind) for p in g.quarters] for g in r.by["segment"]},
                title=f"{kind.upper()} by segment and quarter", ymax=top, fmt=pct, height=210,
            )
            for kind in ("grr", "nrr")
        },
        "renewals": charts.stacked_columns(
            labels,
            {
                "on time": [p.renewals.on_time for p in r.quarters],
                "late": [p.renewals.late for p in r.quarters],
                "lost": [p.renewals.lost for p in r.quarters],
                "lapsed": [p.renewals.lapsed for p in r.quarters],
            },
            title="renewals due by quarter and outcome", height=230,
        ),
    }  # fmt: skip


def heat(v: float | None) -> str:
    """A cell colour for a retention share: red below 70%, through yellow, green at 100%+."""
    if v is None:
        return ""
    if v >= 1.0:
        return "#cdebd8"
    if v >= 0.9:
        return "#e4f3e0"
    if v >= 0.8:
        return "#fbf1cc"
    if v >= 0.7:
        return "#fde0c5"
    return "#f7cccc"


@router.get("/retention", response_class=HTMLResponse)
def retention(request: Request, user: User, session: DB) -> HTMLResponse:
    r = retention_for(request, session)
    width = max((len(c.revenue_retention) for c in r.cohorts), default=0)
    context: dict[str, Any] = {
        "r": r, "chart": retention_charts(r), "heat": heat, "cohort_width": width,
    }  # fmt: skip
    return render(request, "retention.html", context)
