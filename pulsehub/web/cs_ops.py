"""The CS operations page: onboarding phases, handoffs, CSM workload and cover."""

from __future__ import annotations

from dataclasses import asdict
from functools import lru_cache
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from csops.config import CsOpsConfig, load_csops
from pulsehub.web import charts
from pulsehub.web.deps import DB, User
from pulsehub.web.rendering import render
from reporting.common import as_of_day, per_run
from reporting.csops import load_operations

router = APIRouter()
PHASE_COLOR = "#3b6fd8"


@lru_cache(maxsize=1)
def _config() -> CsOpsConfig:
    from pulsehub.settings import get_settings

    return load_csops(get_settings().csops_file)


@router.get("/cs-ops", response_class=HTMLResponse)
def cs_ops(request: Request, user: User, session: DB) -> HTMLResponse:
    day = as_of_day(session)
    config = _config()
    o = per_run(session, ("cs-ops", day), lambda: load_operations(session, config, day))
    funnel = charts.hbars(
        [(name, float(n)) for name, n, _ in o.funnel],
        title="accounts by onboarding phase",
        colors=[PHASE_COLOR] * len(o.funnel),  # phases are steps, not health bands
    )
    return render(request, "cs_ops.html", {"o": o, "funnel": funnel, "day": day})


@router.get("/api/cs-ops")
def cs_ops_json(user: User, session: DB) -> dict[str, Any]:
    """The same figures for scripts: phases, stalls, TTFV, handoffs and their KPI, workload."""
    day = as_of_day(session)
    o = per_run(session, ("cs-ops", day), lambda: load_operations(session, _config(), day))
    return {
        "as_of": day.isoformat(),
        "phases": [{"phase": p, "accounts": n, "target_days": t} for p, n, t in o.funnel],
        "stalled": o.stalled,
        "ttfv_median_days": o.ttfv_median,
        "handoff_kpi": o.handoff_kpi,
        "handoffs": o.handoffs,
        "workload": {
            "target_load": o.target_load,
            "owners": [{**asdict(w), "name": o.names.get(w.owner)} for w in o.workload],
            "suggestions": [asdict(m) for m in o.moves],
            "assignments": [asdict(m) for m in o.assignments],
            "write_owner": o.write_owner,
        },
        "covers": o.covers,
    }
