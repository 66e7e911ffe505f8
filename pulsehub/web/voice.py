"""`/voice` (the voice-of-the-customer page) and `/api/voice` (the same figures as JSON)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup

from pulsehub.web import charts
from pulsehub.web.deps import DB, User
from reporting.common import as_of_day
from reporting.voice import VoiceView, load_voice

router = APIRouter()


def _view(request: Request, session: Any) -> VoiceView:
    return load_voice(session, request.app.state.voice, as_of_day(session))


def voice_charts(v: VoiceView) -> dict[str, Markup]:
    """NPS splits per month, NPS itself, and CSAT / CES-easy shares."""
    labels = [m["month"][2:] for m in v.monthly]
    splits: dict[str, Sequence[float]] = {
        k: [float(m[k]) for m in v.monthly] for k in ("promoters", "passives", "detractors")
    }
    shares: dict[str, Sequence[float | None]] = {
        "CSAT % satisfied": [None if m["csat"] is None else 100 * m["csat"] for m in v.monthly],
        "CES % easy": [None if m["ces_easy"] is None else 100 * m["ces_easy"] for m in v.monthly],
    }
    nps_shifted: dict[str, Sequence[float | None]] = {
        "NPS": [None if m["nps"] is None else m["nps"] + 100 for m in v.monthly]
    }
    return {
        "splits": charts.stacked_columns(labels, splits, title="NPS responses by category"),
        "nps": charts.line_chart(
            labels,
            nps_shifted,
            title="NPS by month (-100 to 100)",
            ymax=200,
            fmt=lambda x: f"{x - 100:+.0f}",
        ),
        "shares": charts.line_chart(
            labels, shares, title="CSAT and CES by month", ymax=100, fmt=lambda x: f"{x:.0f}%"
        ),
    }


@router.get("/voice", response_class=HTMLResponse)
def voice_page(request: Request, user: User, session: DB) -> HTMLResponse:
    from pulsehub.web.rendering import render

    v = _view(request, session)
    return render(request, "voice.html", {"v": v, "voice_charts": voice_charts(v)})


@router.get("/api/voice")
def voice_api(request: Request, user: User, session: DB) -> dict[str, Any]:
    v = _view(request, session)
    return {
        "as_of": v.as_of.isoformat(),
        "period_days": v.period_days,
        "monthly": v.monthly,
        "by_segment": v.by_segment,
        "segment_months": v.segment_months,
        "themes": v.themes,
        "suggested_themes": [dataclasses.asdict(s) for s in v.suggested],
        "verbatims": v.verbatims,
    }
