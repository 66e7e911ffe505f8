"""JSON API for scripts (Bearer token): the overview figures and one account's latest health."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from pulsehub.web.deps import DB, User
from pulsehub.web.retention import retention_for
from reporting.accounts import load_account
from reporting.overview import load_overview
from reporting.retention_json import retention_to_dict

router = APIRouter(prefix="/api")


@router.get("/overview")
def overview(user: User, session: DB) -> dict[str, Any]:
    ov = load_overview(session)
    return {
        "as_of": ov.as_of.isoformat(),
        "accounts": ov.accounts,
        "current_customers": ov.current,
        "bands": ov.bands,
        "unscored": ov.unscored,
        "unscored_reasons": ov.unscored_reasons,
        "churned": ov.churned,
        "churned_arr": ov.churned_arr,
        "arr_by_band": ov.arr_by_band,
        "renewals": [
            {
                "days": b.days,
                "accounts": b.accounts,
                "arr": b.arr,
                "by_risk": b.by_risk,
                "arr_at_risk": b.arr_at_risk,
            }
            for b in ov.renewals
        ],
        "open_escalations": ov.escalations,
        "band_changes_7d": ov.movers_total,
    }


@router.get("/retention")
def retention(request: Request, user: User, session: DB) -> dict[str, Any]:
    """GRR/NRR, churn, renewal rate, cohorts and cost-to-serve: the Retention page's figures."""
    return retention_to_dict(retention_for(request, session))


@router.get("/accounts/{account_id}")
def account(user: User, session: DB, account_id: int) -> dict[str, Any]:
    d = load_account(session, account_id)
    if d is None:
        raise LookupError(f"no account with id {account_id}")
    s = d.latest
    return {
        "id": d.account.id,
        "name": d.account.name,
        "crm_id": d.account.crm_id,
        "arr": d.account.arr,
        "renewal_date": d.account.renewal_date.isoformat() if d.account.renewal_date else None,
        "health": None
        if s is None
        else {
            "as_of": s.as_of.isoformat(),
            "score": s.score,
            "band": s.band,
            "reasons": s.reasons,
            "renewal_risk": s.renewal_risk,
            "risk_level": s.risk_level,
            "risk_drivers": s.risk_drivers,
        },
    }
