"""Read-only dashboard pages: overview, account list and drill-down, support KPIs, adoption."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from pulsehub.web import charts
from pulsehub.web.deps import DB, User
from pulsehub.web.rendering import money, pct, render
from pulsehub.web.signals_view import signal_rows
from reporting.accounts import list_accounts, load_account, segments
from reporting.adoption import load_adoption
from reporting.common import BANDS, as_of_day, per_run
from reporting.csops import account_onboarding
from reporting.overview import Overview, load_overview
from reporting.support import load_support

router = APIRouter()


def overview_charts(ov: Overview, *, links: bool = True) -> dict[str, Any]:
    """The overview's pictures, shared by the page and the standalone report (no links)."""
    weeks = [f"{d:%b %d}" for d, _ in ov.band_trend]
    return {
        "trend": charts.stacked_columns(
            weeks, {b: [c[b] for _, c in ov.band_trend] for b in BANDS},
            title="accounts by health band, weekly", height=300,
        ),
        "arr": charts.hbars(
            [(b, ov.arr_by_band[b]) for b in BANDS], title="ARR by band", fmt=money,
            links=[f"/accounts?band={b}" for b in BANDS] if links else None,
        ),
        "escalations": charts.hbars(
            list(ov.escalations.items()), title="open escalations by severity",
            links=[f"/escalations?severity={s}" for s in ov.escalations] if links else None,
        ),
    }  # fmt: skip


@router.get("/", response_class=HTMLResponse)
def overview(request: Request, user: User, session: DB) -> HTMLResponse:
    ov = load_overview(session)
    return render(request, "overview.html", {"ov": ov, "chart": overview_charts(ov)})


@router.get("/accounts", response_class=HTMLResponse)
def accounts(
    request: Request, user: User, session: DB, q: str = "", band: str = "", segment: str = "",
    sort: str = "arr", desc: bool = True, page: Annotated[int, Query(ge=1)] = 1,
    renews_within: Annotated[int, Query(ge=0, le=3660)] = 0,
) -> HTMLResponse:  # fmt: skip
    result = list_accounts(
        session, q=q, band=band, segment=segment, sort=sort, desc=desc, page=page,
        renews_within=renews_within,
    )  # fmt: skip
    return render(request, "accounts.html", {
        "result": result, "segments": segments(session), "bands": (*BANDS, "unscored", "churned"),
        "f": {"q": q, "band": band, "segment": segment, "sort": sort, "desc": desc,
              "renews_within": renews_within},
    })  # fmt: skip


@router.get("/accounts/{account_id}", response_class=HTMLResponse)
def account(request: Request, user: User, session: DB, account_id: int) -> HTMLResponse:
    detail = load_account(session, account_id)
    if detail is None:
        raise LookupError(f"no account with id {account_id}")
    labels = [f"{d:%b %d}" for d, _, _ in detail.history]
    cut = request.app.state.scorecard.bands
    zones = (
        (0, cut.red_below, "red"),
        (cut.red_below, cut.green_at, "yellow"),
        (cut.green_at, 100, "green"),
    )
    history = charts.line_chart(
        labels, {"score": [s for _, s, _ in detail.history]}, title="health score history",
        ymax=100, bands=zones, fmt=lambda v: f"{v:.0f}",
        point_colors=[charts.color(b) for _, _, b in detail.history],
    )  # fmt: skip
    usage = charts.line_chart(
        [f"{d:%b %d}" for d, _ in detail.usage], {"active users": [float(v) for _, v in detail.usage]},
        title="daily active users", height=160, fmt=lambda v: f"{v:.0f}",
    )  # fmt: skip
    rows = signal_rows(
        detail.latest.signals if detail.latest else None, request.app.state.scorecard
    )
    context = {"d": detail, "history_chart": history, "usage_chart": usage, "signal_rows": rows}
    context["onboarding"] = account_onboarding(session, account_id)
    return render(request, "account.html", context)


@router.get("/support", response_class=HTMLResponse)
def support(request: Request, user: User, session: DB) -> HTMLResponse:
    day = as_of_day(session)
    k = per_run(session, ("support", day), lambda: load_support(session, day))
    labels = [f"{w:%b %d}" for w in k.weeks]

    def trend(key: str, fmt: Any, ymax: float | None = None) -> Any:
        return charts.line_chart(labels, {key: [k.by_week[w][key] for w in k.weeks]},
                                 title=key, width=380, height=190, fmt=fmt, ymax=ymax)  # fmt: skip

    hours = lambda v: f"{v:.1f}h"  # noqa: E731
    rate = lambda v: pct(v)  # noqa: E731
    per = lambda v: f"{v:.2f}"  # noqa: E731
    kpi_charts = {
        "first_reply_h": trend("first_reply_h", hours), "resolution_h": trend("resolution_h", hours),
        "fcr": trend("fcr", rate, 1.0), "csat": trend("csat", rate, 1.0),
        "tickets_per_customer": trend("tickets_per_customer", per),
        "escalations_per_customer": trend("escalations_per_customer", per),
        "repeat_per_customer": trend("repeat_per_customer", per),
    }  # fmt: skip
    return render(request, "support.html", {"k": k, "kpi_charts": kpi_charts})


@router.get("/adoption", response_class=HTMLResponse)
def adoption(request: Request, user: User, session: DB) -> HTMLResponse:
    day = as_of_day(session)
    a = per_run(session, ("adoption", day), lambda: load_adoption(session, day))
    trend = charts.line_chart(
        [f"{d:%b %d}" for d, _ in a.dau_mau_trend], {"DAU/MAU": [v for _, v in a.dau_mau_trend]},
        title="mean DAU/MAU, weekly", ymax=1.0, fmt=pct, height=170,
    )  # fmt: skip
    cohorts = charts.line_chart(
        [c.cohort for c in a.cohorts],
        {"activated": [c.activated for c in a.cohorts], "onboarded": [c.onboarded for c in a.cohorts]},
        title="activation and onboarding completion by cohort", ymax=1.0, fmt=pct, height=170,
    )  # fmt: skip
    breadth = charts.stacked_columns(
        [str(b) for b in a.breadth_histogram], {"accounts": list(a.breadth_histogram.values())},
        title="accounts by number of features used (28 days)", height=170,
    )  # fmt: skip
    return render(
        request,
        "adoption.html",
        {"a": a, "trend": trend, "cohort_chart": cohorts, "breadth": breadth},
    )
