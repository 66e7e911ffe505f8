"""Sign in with a token (sets the session cookie) and sign out."""

from __future__ import annotations

import hmac
import logging
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from pulsehub.web.auth import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    SESSION_TTL_S,
    Principal,
    authenticator,
    new_login_csrf,
    require_user,
)
from pulsehub.web.rendering import render

log = logging.getLogger(__name__)
router = APIRouter()


def _safe_next(target: str) -> str:
    """Only same-site paths: never bounce a fresh login to another host."""
    return target if target.startswith("/") and not target.startswith("//") else "/"


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str = "/", error: str = "") -> Response:
    token = new_login_csrf()
    response = render(request, "login.html", {
        "next": _safe_next(next), "login_csrf": token, "error": error,
        "configured": authenticator(request).configured,
    })  # fmt: skip
    response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict")
    return response


@router.post("/login")
def login(
    request: Request,
    token: Annotated[str, Form()],
    csrf_token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    auth = authenticator(request)
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected or not hmac.compare_digest(expected, csrf_token):
        return login_form(request, next, "The form expired; please try again.")
    name = auth.name_for_token(token.strip())
    if name is None:
        log.warning("dashboard sign-in refused: unknown token")
        return login_form(request, next, "That token is not valid.")
    log.info("dashboard sign-in: %s", name)
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(
        SESSION_COOKIE, auth.issue_session(name), max_age=SESSION_TTL_S, httponly=True,
        samesite="lax", secure=request.url.scheme == "https",
    )  # fmt: skip
    response.delete_cookie(LOGIN_CSRF_COOKIE)
    return response


@router.post("/logout")
def logout(
    request: Request,
    user: Annotated[Principal, Depends(require_user)],
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    authenticator(request).check_csrf(user, csrf_token)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response
