"""/rcas: root-cause analyses owed after solved engineering escalations; operators mark one done."""

from __future__ import annotations

import datetime as dt
import logging

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from escalation.report import rca_compliance
from model.db import transaction
from model.tables import utcnow
from pulsehub.web.auth import authenticator
from pulsehub.web.deps import DB, Csrf, Operator, User
from pulsehub.web.rendering import render
from reporting.rcas import STATES, rca_rows
from sync.reviews import mark_rca_done

log = logging.getLogger(__name__)
router = APIRouter(prefix="/rcas")
QUARTER = dt.timedelta(days=91)


@router.get("", response_class=HTMLResponse)
def rcas(
    request: Request, user: User, session: DB, state: str = "all", done: str = ""
) -> HTMLResponse:
    now = utcnow()
    state = state if state in STATES else "all"
    return render(request, "rcas.html", {
        "rows": rca_rows(session, now, state), "state": state, "states": STATES,
        "quarter": rca_compliance(session, now, now - QUARTER), "done": done,
    })  # fmt: skip


@router.post("/{escalation_id}/done")
def mark_done(
    request: Request, user: Operator, escalation_id: int, csrf_token: Csrf = ""
) -> Response:
    authenticator(request).check_csrf(user, csrf_token)
    with transaction(request.app.state.factory) as session:
        mark_rca_done(session, escalation_id, user.name, utcnow())
    log.info("%s marked the RCA of escalation %s done", user.name, escalation_id)
    return RedirectResponse(
        f"/rcas?done=RCA+of+escalation+{escalation_id}+marked+done", status_code=303
    )
