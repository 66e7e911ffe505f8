"""The escalations inbox: triage from one list — acknowledge, resolve, snooze (operators).

Resolving goes through `sync.escalate.resolve_by_hand`, as `pulsehub escalations resolve`
does: the row's new state and its closing writes (ticket comment, tags, review task) commit
together and reach Zendesk and Salesforce through the outbox.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from escalation.lifecycle import acknowledge
from escalation.triage import snooze
from model.db import transaction
from model.tables import Escalation, utcnow
from pulsehub.escalation_systems import configured_systems
from pulsehub.web.auth import authenticator
from pulsehub.web.deps import DB, Csrf, Operator, User
from pulsehub.web.rendering import render
from reporting.escalations import STATES, InboxFilter, load_inbox
from sync.escalate import resolve_by_hand

log = logging.getLogger(__name__)
router = APIRouter(prefix="/escalations")
SEVERITIES = ("sev1", "sev2", "sev3", "sev4")
MAX_SNOOZE_DAYS = 30


def links(request: Request) -> dict[str, str | None]:
    """Where the engineering ticket and the owner task open, from the configured systems."""
    s = request.app.state.settings
    zd = (
        f"https://{s.zendesk.subdomain}.zendesk.com/agent/tickets/" if s.zendesk.subdomain else None
    )
    sf_base = (s.salesforce.instance_url or "").rstrip("/")
    return {"ticket": zd, "task": f"{sf_base}/lightning/r/Task/" if sf_base else None}


@router.get("", response_class=HTMLResponse)
def inbox(
    request: Request, user: User, session: DB, state: str = "active", severity: str = "",
    owner: str = "", segment: str = "", min_age_days: Annotated[int, Query(ge=0)] = 0,
    snoozed: bool = False, page: Annotated[int, Query(ge=1)] = 1, done: str = "",
) -> HTMLResponse:  # fmt: skip
    if state not in STATES:
        state = "active"
    f = InboxFilter(state, severity if severity in SEVERITIES else "", owner, segment,
                    min_age_days, snoozed, page)  # fmt: skip
    return render(request, "escalations.html", {
        "inbox": load_inbox(session, f), "f": f, "states": STATES, "severities": SEVERITIES,
        "links": links(request), "done": done, "max_snooze": MAX_SNOOZE_DAYS,
    })  # fmt: skip


def _back(request: Request, message: str) -> RedirectResponse:
    from urllib.parse import quote

    back = request.headers.get("referer", "")
    query = back.split("?", 1)[1] if "/escalations?" in back else ""
    query = "&".join(p for p in query.split("&") if p and not p.startswith("done="))
    return RedirectResponse(
        f"/escalations?{query + '&' if query else ''}done={quote(message)}", status_code=303
    )


def _load(session: Session, escalation_id: int) -> Escalation:
    esc = session.get(Escalation, escalation_id)
    if esc is None:
        raise LookupError(f"no escalation {escalation_id}")
    return esc


@router.post("/{escalation_id}/ack")
def ack(request: Request, user: Operator, escalation_id: int, csrf_token: Csrf = "") -> Response:
    authenticator(request).check_csrf(user, csrf_token)
    with transaction(request.app.state.factory) as session:
        ok = acknowledge(_load(session, escalation_id), utcnow(), by=user.name)
    log.info("%s acknowledged escalation %s: %s", user.name, escalation_id, ok)
    return _back(
        request, f"escalation {escalation_id} " + ("acknowledged" if ok else "was not open")
    )


@router.post("/{escalation_id}/resolve")
def resolve(
    request: Request, user: Operator, escalation_id: int, note: Annotated[str, Form()] = "",
    csrf_token: Csrf = "",
) -> Response:  # fmt: skip
    authenticator(request).check_csrf(user, csrf_token)
    if not note.strip():
        return _back(request, "a resolution needs a note (it is posted on the engineering ticket)")
    settings, rules = request.app.state.settings, request.app.state.rules
    with transaction(request.app.state.factory) as session:
        esc = _load(session, escalation_id)
        if esc.state == "resolved":
            return _back(request, f"escalation {escalation_id} was already resolved")
        text = f"{note.strip()[:2000]} (resolved by {user.name})"
        group_id, systems = settings.zendesk.escalation_group_id, configured_systems(settings)
        queued = resolve_by_hand(session, esc, rules, text, group_id, systems)
    log.info("%s resolved escalation %s; %s write(s) queued", user.name, escalation_id, queued)
    return _back(request, f"escalation {escalation_id} resolved; {queued} write(s) queued")


@router.post("/{escalation_id}/snooze")
def snooze_one(
    request: Request, user: Operator, escalation_id: int, days: Annotated[int, Form()] = 7,
    csrf_token: Csrf = "",
) -> Response:  # fmt: skip
    authenticator(request).check_csrf(user, csrf_token)
    if not 1 <= days <= MAX_SNOOZE_DAYS:
        return _back(request, f"snooze for 1-{MAX_SNOOZE_DAYS} days")
    now = utcnow()
    with transaction(request.app.state.factory) as session:
        ok = snooze(_load(session, escalation_id), now + dt.timedelta(days=days), now, user.name)
    log.info("%s snoozed escalation %s for %s days: %s", user.name, escalation_id, days, ok)
    return _back(
        request,
        f"escalation {escalation_id} " + (f"snoozed for {days} days" if ok else "is not active"),
    )
