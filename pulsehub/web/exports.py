"""CSV downloads of the account list, with the same filters and sort as the page."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter
from fastapi.responses import StreamingResponse

from pulsehub.web.deps import DB, User
from reporting.accounts import list_accounts

router = APIRouter()
COLUMNS = ("id", "name", "segment", "tier", "owner_name", "arr", "renewal_date", "band", "score",
           "trend_28d", "risk_level", "renewal_risk")  # fmt: skip
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def cell(value: Any) -> Any:
    """A value as a spreadsheet should read it: text that a spreadsheet would run as a formula
    (an account named "=HYPERLINK(...)") is prefixed with a quote (OWASP CSV injection)."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return "" if value is None else value


def rows_csv(rows: list[dict[str, Any]]) -> Iterator[str]:
    buf = io.StringIO()
    out = csv.writer(buf)
    out.writerow(COLUMNS)
    for r in rows:
        out.writerow([cell(r.get(c)) for c in COLUMNS])
        if buf.tell() > 64_000:
            yield buf.getvalue()
            buf.seek(0)
            buf.truncate()
    yield buf.getvalue()


@router.get("/accounts.csv")
def accounts_csv(
    user: User, session: DB, q: str = "", band: str = "", segment: str = "", sort: str = "arr",
    desc: bool = True, renews_within: int = 0,
) -> StreamingResponse:  # fmt: skip
    result = list_accounts(
        session, q=q, band=band, segment=segment, sort=sort, desc=desc, page_size=None,
        renews_within=max(0, renews_within),
    )  # fmt: skip
    return StreamingResponse(
        rows_csv(result.rows),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="pulsehub-accounts.csv"'},
    )
