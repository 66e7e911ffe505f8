"""Build the dashboard application: settings -> database, auth, templates and routers."""

from __future__ import annotations

import importlib
import logging
from collections.abc import Awaitable, Callable
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy.orm import Session, sessionmaker

from escalation.config import load_rules
from escalation.operations import load_operations
from escalation.voice_config import load_voice
from model.db import make_engine, make_session_factory
from pulsehub.settings import Settings, get_settings
from pulsehub.web import (
    access,
    api,
    book,
    cs_ops,
    escalations,
    exports,
    health,
    login,
    metrics,
    operator,
    pages,
    rcas,
    retention,
    voice,
)
from pulsehub.web.auth import Authenticator, Forbidden, LoginRequired
from pulsehub.web.rendering import render
from reporting.retention_config import load_retention_config
from scoring.config import load_scorecard

log = logging.getLogger(__name__)


def create_app(
    settings: Settings | None = None, factory: sessionmaker[Session] | None = None
) -> FastAPI:
    """The dashboard app; `factory` defaults to a session factory on `settings.database_url`."""
    settings = settings or get_settings()
    if factory is None:
        factory = make_session_factory(make_engine(settings.database_url))
    app = FastAPI(title="pulsehub", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.settings = settings
    app.state.factory = factory
    app.state.auth = Authenticator(settings)
    app.state.scorecard = load_scorecard(settings.scorecard_file)  # a bad file fails at start-up
    app.state.rules = load_rules(settings.rules_file)  # resolving from the inbox needs them
    app.state.retention = load_retention_config(settings.retention_file)  # fails at start-up
    app.state.voice = load_voice(settings.voice_file)  # feedback themes and routing
    app.state.operations = load_operations(settings.operations_file)  # access reviews read it
    if not app.state.auth.configured:
        log.warning(
            "no PULSEHUB_WEB_TOKENS configured: nobody can sign in to the dashboard — set it to "
            'JSON such as \'{"cs-team": "TOKEN", "ops:operator": "TOKEN2"}\' and restart'
        )
    for module in (
        health, login, exports, pages, book, operator, escalations, rcas, access, api, metrics,
        cs_ops, voice,
    ):  # fmt: skip
        app.include_router(module.router)
    app.include_router(retention.router)
    _include_webhooks(app)
    _install_error_pages(app)
    app.middleware("http")(_security_headers)
    return app


SECURITY_HEADERS = {
    # pages use inline <style>/<script> and inline SVG only; nothing may come from elsewhere
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "script-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


async def _security_headers(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    response = await call_next(request)
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def _include_webhooks(app: FastAPI) -> None:
    """The Zendesk webhook router lives in pulsehub.web.webhooks when that module exists.

    Its refreshes go to the configured Celery app (PULSEHUB_BROKER_URL), the one the worker
    consumes; without it `delay()` would publish to Celery's default app (amqp://localhost)."""
    try:
        webhooks = importlib.import_module("pulsehub.web.webhooks")
    except ModuleNotFoundError as exc:
        if exc.name != "pulsehub.web.webhooks":
            raise
        return
    from pulsehub.celery_app import make_celery, refresh_enqueuer

    app.state.enqueue_refresh = refresh_enqueuer(make_celery(app.state.settings))
    app.include_router(webhooks.router)


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith(
        ("/api/", "/metrics")
    ) or "text/html" not in request.headers.get("accept", "")


def _install_error_pages(app: FastAPI) -> None:
    @app.exception_handler(LoginRequired)
    async def _login_required(request: Request, exc: LoginRequired) -> Response:
        if _wants_json(request):
            return JSONResponse(
                {"detail": "authentication required: send Authorization: Bearer <token>"},
                status_code=401,
                headers={"WWW-Authenticate": "Bearer"},
            )
        target = quote(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
        return RedirectResponse(f"/login?next={target}", status_code=303)

    @app.exception_handler(Forbidden)
    async def _forbidden(request: Request, exc: Forbidden) -> Response:
        if _wants_json(request):
            return JSONResponse({"detail": str(exc)}, status_code=403)
        return render(request, "error.html", {"title": "Not allowed", "message": str(exc)}, 403)

    @app.exception_handler(LookupError)
    async def _not_found(request: Request, exc: LookupError) -> Response:
        if _wants_json(request):
            return JSONResponse({"detail": str(exc)}, status_code=404)
        return render(request, "error.html", {"title": "Not found", "message": str(exc)}, 404)

    @app.exception_handler(RequestValidationError)
    async def _bad_request(request: Request, exc: RequestValidationError) -> Response:
        """A bad query value (`?page=abc`) on a page is a readable 400 page, not raw JSON."""
        if _wants_json(request):
            return JSONResponse({"detail": jsonable_encoder(exc.errors())}, status_code=422)
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'][1:]) or 'request'}: {e['msg']}"
            for e in exc.errors()
        )
        return render(request, "error.html", {"title": "Bad request", "message": problems}, 400)
