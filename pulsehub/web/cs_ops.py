"""The CS operations page: onboarding phases, handoffs, CSM workload and cover."""

from __future__ import annotations

from functools import lru_cache

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
