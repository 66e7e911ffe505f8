"""Operator pages and actions: runs, outbox and dead letters, quarantine, identity review, overrides.

Actions call the owning packages (`sync.outbox.retry_dead`, `model.identity.decide`) or insert
`ScoreOverride` rows that scoring applies; they need the operator role and a CSRF token.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from model.db import transaction
from model.identity import decide
from model.tables import ScoreOverride, SyncRun, utcnow
from pulsehub.web.audit_view import audit_charts, trust_view
from pulsehub.web.auth import authenticator
from pulsehub.web.deps import DB, Csrf, Operator, User
from pulsehub.web.rendering import render
from reporting import operations as ops
from reporting.accounts import find_account
from sync.outbox import retry_dead
from sync.runs import doing, seen_state

log = logging.getLogger(__name__)
router = APIRouter(prefix="/ops")
OVERRIDE_BANDS = ("green", "yellow", "red")
MAX_OVERRIDE_DAYS = 365


def _back(path: str, message: str) -> RedirectResponse:
    from urllib.parse import quote

    return RedirectResponse(f"{path}?done={quote(message)}", status_code=303)


def _seen(run: SyncRun) -> tuple[str, str | None]:
    """A run's status as it stands and its error, or, while it runs, what it is doing."""
    status, error = seen_state(run)
    return status, doing(run) or error


@router.get("", response_class=HTMLResponse)
def operations(request: Request, user: User, session: DB, done: str = "") -> HTMLResponse:
    runs = ops.recent_runs(session)
    seen = {r.id: _seen(r) for r in runs}
    total_q, quarantine = ops.quarantined(session, 50)
    outbox = ops.outbox_counts(session)
    return render(request, "ops.html", {
        "runs": runs, "seen": seen, "pulled": {r.id: ops.run_pulled(r) for r in runs},
        "cursors": ops.cursors(session), "api": ops.api_usage(runs),
        "outbox": outbox, "dead": ops.dead_letters(session),
        "pending": ops.pending_items(session), "quarantine_total": total_q, "quarantine": quarantine,
        "done": done, "outbox_pending": sum(n for (_, _, st), n in outbox.items() if st == "pending"),
        "dead_total": sum(n for (_, _, st), n in outbox.items() if st == "dead"),
    })  # fmt: skip


@router.get("/identities", response_class=HTMLResponse)
def identities(request: Request, user: User, session: DB, done: str = "") -> HTMLResponse:
    total, queue = ops.identity_queue(session)
    return render(request, "identities.html", {"total": total, "queue": queue, "done": done})


@router.get("/overrides", response_class=HTMLResponse)
def overrides(
    request: Request, user: User, session: DB, done: str = "", account: int | None = None
) -> HTMLResponse:
    return render(request, "overrides.html", {
        "rows": ops.overrides(session), "done": done, "account": account, "bands": OVERRIDE_BANDS,
    })  # fmt: skip


@router.get("/audit", response_class=HTMLResponse)
def audit(request: Request, user: User, session: DB) -> HTMLResponse:
    model_audit, trust = ops.audit_output(session)
    charts, rest = audit_charts(model_audit)
    return render(request, "audit.html", {
        "output": rest, "charts": charts, "trust": trust_view(trust),
    })  # fmt: skip


@router.post("/outbox/retry")
def retry(
    request: Request, user: Operator, item_id: Annotated[list[int], Form()], csrf_token: Csrf = ""
) -> Response:
    authenticator(request).check_csrf(user, csrf_token)
    with transaction(request.app.state.factory) as session:
        n = retry_dead(session, item_id)
    log.info("%s re-queued %s dead letter(s)", user.name, n)
    return _back("/ops", f"{n} dead letter(s) re-queued")


@router.post("/identities/{identity_id}")
def decide_identity(
    request: Request, user: Operator, identity_id: int,
    decision: Annotated[str, Form()], account_id: Annotated[str, Form()] = "",
    other_account_id: Annotated[str, Form()] = "", csrf_token: Csrf = "",
) -> Response:  # fmt: skip
    authenticator(request).check_csrf(user, csrf_token)
    if decision not in ("accept", "reject"):
        raise LookupError(f"unknown decision {decision!r}")
    chosen = (account_id or other_account_id).strip()
    if decision == "accept" and not chosen:
        return _back("/ops/identities", "choose an account to link to")
    with transaction(request.app.state.factory) as session:
        target = None
        if decision == "accept":
            target, why = find_account(session, chosen)
            if target is None:
                return _back("/ops/identities", why)
        decide(session, identity_id, target, reject=decision == "reject")
    log.info("%s %sed identity %s", user.name, decision, identity_id)
    return _back("/ops/identities", f"identity {identity_id} {decision}ed")


@router.post("/overrides")
def set_override(
    request: Request, user: Operator, account: Annotated[str, Form()],
    band: Annotated[str, Form()], reason: Annotated[str, Form()], days: Annotated[int, Form()] = 30,
    score: Annotated[str, Form()] = "", csrf_token: Csrf = "",
) -> Response:  # fmt: skip
    authenticator(request).check_csrf(user, csrf_token)
    if band not in OVERRIDE_BANDS or not reason.strip() or not 1 <= days <= MAX_OVERRIDE_DAYS:
        return _back(
            "/ops/overrides", f"an override needs a band, a reason and 1-{MAX_OVERRIDE_DAYS} days"
        )
    value = float(score) if score.strip() else None
    if value is not None and not 0 <= value <= 100:
        return _back("/ops/overrides", "a score must be between 0 and 100")
    with transaction(request.app.state.factory) as session:
        account_id, why = find_account(session, account)
        if account_id is None:
            return _back("/ops/overrides", why)
        row = ScoreOverride(
            account_id=account_id, band=band, score=value, reason=reason.strip()[:2000],
            author=user.name, expires_at=utcnow() + dt.timedelta(days=days),
        )  # fmt: skip
        session.add(row)
    log.info("%s set override %s on account %s", user.name, band, account_id)
    return _back(
        "/ops/overrides", f"override set on account {account_id} until the next {days} days pass"
    )


@router.post("/overrides/{override_id}/revoke")
def revoke_override(
    request: Request, user: Operator, override_id: int, csrf_token: Csrf = ""
) -> Response:
    authenticator(request).check_csrf(user, csrf_token)
    with transaction(request.app.state.factory) as session:
        row = session.get(ScoreOverride, override_id)
        if row is None:
            raise LookupError(f"no override with id {override_id}")
        row.revoked = True
    return _back("/ops/overrides", f"override {override_id} revoked")
