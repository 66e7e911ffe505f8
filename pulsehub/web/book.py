"""My book: one owner's accounts, renewals in 90 days, open escalations and tasks, and a preview
of the weekly digest they will get."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from pulsehub.web.auth import Principal
from pulsehub.web.deps import DB, User
from pulsehub.web.rendering import render
from reporting.book import RENEWAL_WINDOW_DAYS, load_book, owners
from reporting.digest import build_digests, render_text
from sync.digest import week_ending

router = APIRouter()


def own_name(user: Principal, names: list[str]) -> str:
    """The owner a signed-in token stands for: its name, matched case-insensitively."""
    wanted = user.name.split(":", 1)[0].replace(".", " ").replace("-", " ").lower()
    return next((n for n in names if n.lower() == wanted), "")


@router.get("/book", response_class=HTMLResponse)
def book(request: Request, user: User, session: DB, owner: str = "") -> HTMLResponse:
    names = owners(session)
    chosen = owner if owner in names else own_name(user, names)
    digest = None
    if chosen:
        today = dt.datetime.now(dt.UTC).date()
        found = build_digests(session, week_ending(today), chosen)
        digest = render_text(found[0]) if found else None
    return render(request, "book.html", {
        "owners": names, "owner": chosen, "window": RENEWAL_WINDOW_DAYS,
        "book": load_book(session, chosen) if chosen else None, "digest": digest,
    })  # fmt: skip
