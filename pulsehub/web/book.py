"""My book: one owner's accounts, renewals in 90 days, open escalations and tasks, and a preview
of the weekly digest they will get."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from pulsehub.web.auth import Principal, require_user
from pulsehub.web.rendering import render, session_scope
from reporting.book import RENEWAL_WINDOW_DAYS, load_book, owners
from reporting.digest import build_digests, render_text
from sync.digest import week_ending

router = APIRouter()
DB = Annotated[Session, Depends(session_scope)]
User = Annotated[Principal, Depends(require_user)]


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
