"""Templates and the formatting filters every page shares; also renders the standalone HTML report."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from sqlalchemy.orm import Session

from pulsehub.formatting import NONE, band_label, money, num, pct
from pulsehub.web import charts

TEMPLATES = Path(__file__).with_name("templates")
NAV = (
    ("/", "Overview"), ("/accounts", "Accounts"), ("/book", "My book"), ("/support", "Support"),
    ("/adoption", "Adoption"), ("/escalations", "Escalations"), ("/rcas", "RCAs"),
    ("/access-reviews", "Access"), ("/cs-ops", "CS ops"), ("/retention", "Retention"),
    ("/voice", "Voice"), ("/ops", "Operations"),
)  # fmt: skip


def when(v: dt.datetime | dt.date | None) -> Markup:
    """A date or UTC time that never wraps inside a table cell."""
    if v is None:
        return Markup(NONE)
    text = f"{v:%Y-%m-%d %H:%M}" if isinstance(v, dt.datetime) else f"{v:%Y-%m-%d}"
    return Markup('<span class="nowrap">%s</span>') % text


def show(v: Any) -> str:
    """Any stored value, short: floats to 2 decimals, None as a dash."""
    if v is None:
        return NONE
    if isinstance(v, float):
        return f"{v:,.2f}"
    return str(v)


def reason_text(reason: Any) -> str:
    """A stored reason: plain text, or a dict carrying `text`/`reason`/`message`."""
    if isinstance(reason, dict):
        for key in ("text", "reason", "message", "driver"):
            if reason.get(key):
                return str(reason[key])
        return ", ".join(f"{k}: {v}" for k, v in reason.items())
    return str(reason)


def environment() -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]))
    env.filters.update(
        money=money,
        pct=pct,
        num=num,
        when=when,
        band=band_label,
        show=show,
        reason=reason_text,
    )
    env.globals.update(charts=charts, nav=NAV, color=charts.color)
    return env


ENV = environment()


def render(
    request: Request, template: str, context: dict[str, Any], status: int = 200
) -> HTMLResponse:
    principal = getattr(request.state, "principal", None)
    auth = request.app.state.auth
    csrf = auth.csrf_for(principal.session) if principal and principal.via == "cookie" else ""
    html = ENV.get_template(template).render(
        request=request, path=request.url.path, principal=principal, csrf=csrf, standalone=False,
        **context,
    )  # fmt: skip
    return HTMLResponse(html, status_code=status)


def render_standalone(template: str, context: dict[str, Any]) -> str:
    """A page without navigation or links back to the server: the self-contained HTML report."""
    return ENV.get_template(template).render(
        request=None, path="", principal=None, csrf="", standalone=True, **context
    )


def session_scope(request: Request) -> Iterator[Session]:
    """Dependency: one read session per request."""
    with request.app.state.factory() as session:
        yield session
