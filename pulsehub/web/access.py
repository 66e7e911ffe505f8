"""/access-reviews: who has access to each customer's product, inactive users, admins and users
whose contact left; downloadable as CSV and as a self-contained HTML report."""

from __future__ import annotations

import csv
import io

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from escalation.operations import quarter_of
from model.tables import utcnow
from pulsehub.web.deps import DB, User
from pulsehub.web.exports import cell
from pulsehub.web.rendering import render, render_standalone
from reporting.access_reviews import CSV_COLUMNS, AccessReview, access_reviews, access_rows

router = APIRouter()


def _reviews(request: Request, session: DB, account: int | None) -> list[AccessReview]:
    config = request.app.state.operations.access_review
    return access_reviews(session, utcnow(), config, None if account is None else [account])


def _context(
    request: Request, reviews: list[AccessReview], account: int | None
) -> dict[str, object]:
    config = request.app.state.operations.access_review
    return {
        "reviews": reviews, "account": account, "quarter": quarter_of(utcnow().date()),
        "inactive_days": config.inactive_days,
        "totals": {
            "accounts": len(reviews), "users": sum(r.with_access for r in reviews),
            "inactive": sum(r.inactive for r in reviews),
            "inactive_admins": sum(r.inactive_admins for r in reviews),
            "left": sum(r.left for r in reviews),
        },
    }  # fmt: skip


@router.get("/access-reviews", response_class=HTMLResponse)
def page(request: Request, user: User, session: DB, account: int | None = None) -> HTMLResponse:
    reviews = _reviews(request, session, account)
    return render(request, "access.html", _context(request, reviews, account))


@router.get("/access-reviews.csv")
def download_csv(request: Request, user: User, session: DB, account: int | None = None) -> Response:
    buf = io.StringIO()
    out = csv.writer(buf)
    out.writerow(CSV_COLUMNS)
    for row in access_rows(_reviews(request, session, account)):
        out.writerow([cell(row.get(c)) for c in CSV_COLUMNS])
    name = f"access-review-{quarter_of(utcnow().date())}" + (f"-{account}" if account else "")
    return Response(buf.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})  # fmt: skip


@router.get("/access-reviews.html")
def download_html(
    request: Request, user: User, session: DB, account: int | None = None
) -> Response:
    reviews = _reviews(request, session, account)
    html = render_standalone("access.html", {**_context(request, reviews, account),
                                             "generated": utcnow().strftime("%Y-%m-%d %H:%M UTC")})  # fmt: skip
    name = f"access-review-{quarter_of(utcnow().date())}" + (f"-{account}" if account else "")
    return Response(html, media_type="text/html; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}.html"'})  # fmt: skip
