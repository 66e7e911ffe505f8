"""The Voice of the customer page in headless Chromium against a real server on the demo data:
its figures are those of the database (counted here independently), and a screenshot is saved."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import select

from model.tables import SurveyResponse
from tests.web.conftest import VIEWER_TOKEN
from tests.web.server import sign_in

pytestmark = pytest.mark.browser


def test_voice_page_shows_the_months_themes_and_verbatims(chromium, site, shots):
    base, factory = site
    with factory() as s:
        rows = s.execute(
            select(SurveyResponse.kind, SurveyResponse.score, SurveyResponse.responded_at)
        ).all()
    assert rows, "the demo pulled no survey responses"
    months = sorted({f"{t.year:04d}-{t.month:02d}" for _, _, t in rows})
    last_full = months[-2]
    cats = Counter(
        "p" if sc >= 9 else "n" if sc >= 7 else "d"
        for k, sc, t in rows
        if k == "nps" and f"{t.year:04d}-{t.month:02d}" == last_full
    )
    total = sum(cats.values())
    expected_nps = round(100 * (cats["p"] - cats["d"]) / total)

    page = sign_in(chromium, base, VIEWER_TOKEN)
    page.goto(f"{base}/voice")
    assert page.locator("h1").inner_text() == "Voice of the customer"
    assert page.get_by_test_id("kpi-nps").inner_text() == f"{expected_nps:,}"
    themes = page.locator("#voice-themes tbody tr")
    assert themes.count() >= 7  # every configured theme has a row
    assert page.locator("#voice-verbatims tbody tr").count() > 3
    assert page.locator("svg").count() >= 3  # splits, NPS, CSAT/CES charts
    nav = page.locator("nav a", has_text="Voice")
    assert nav.get_attribute("class") == "on"
    page.screenshot(path=str(shots / "voice.png"), full_page=True)
