"""`/api/voice`: the page's figures as JSON, behind the same token."""

from __future__ import annotations

from pulsehub.web.app import create_app
from tests.web.conftest import VIEWER_TOKEN, client_for, web_settings


def test_api_voice_answers_the_figures_and_needs_a_token(demo_factory) -> None:
    factory, url = demo_factory
    app = create_app(web_settings(url), factory)
    assert client_for(app).get("/api/voice").status_code in (401, 303)
    body = client_for(app, VIEWER_TOKEN).get("/api/voice").json()
    assert set(body) == {"as_of", "period_days", "monthly", "by_segment", "segment_months",
                         "themes", "suggested_themes", "verbatims"}  # fmt: skip
    assert len(body["monthly"]) == 12 and body["period_days"] == 30
    month = next(m for m in reversed(body["monthly"]) if m["nps_responses"])
    p, n, d = month["promoters"], month["passives"], month["detractors"]
    assert month["nps"] == round(100 * (p - d) / (p + n + d), 1)
    i = body["monthly"].index(month)  # the segments' answers add up to the month's
    by_seg = [rows[i] for rows in body["segment_months"].values()]
    assert sum(r["promoters"] + r["passives"] + r["detractors"] for r in by_seg) == p + n + d
    themes = {t["theme"]: t for t in body["themes"]}
    assert "performance" in themes and themes["performance"]["owner"] == "Head of Engineering"
    assert all(t["impact"] <= t["affected_arr"] for t in body["themes"])
    assert body["verbatims"] and all(v["comment"] for v in body["verbatims"])
