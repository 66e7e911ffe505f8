"""/access-reviews in headless Chromium on the demo database (a real sync of the sandbox):
the stories show (an inactive admin, a user whose contact left), one account's users open
with their flags, and the CSV and HTML downloads carry the same users."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from tests.web.conftest import VIEWER_TOKEN
from tests.web.server import sign_in

pytestmark = pytest.mark.browser


def test_access_reviews_show_the_stories_and_download(chromium, site, shots: Path) -> None:
    base, _ = site
    page = sign_in(chromium, base, VIEWER_TOKEN)
    page.goto(base + "/access-reviews")
    assert int(page.text_content("[data-testid=users]") or 0) > 0
    assert int(page.text_content("[data-testid=inactive-admins]") or 0) >= 1
    assert int(page.text_content("[data-testid=left]") or 0) >= 1
    page.screenshot(path=str(shots / "access-reviews.png"), full_page=True)

    story = page.locator("[data-testid=access-row]", has=page.locator(".badge.red")).first
    story.locator("a").click()
    page.wait_for_url("**/access-reviews?account=*")
    rows = page.locator("[data-testid=user-row]")
    assert rows.count() > 0
    text = page.text_content("#users") or ""
    assert "inactive admin" in text or "contact left" in text
    page.screenshot(path=str(shots / "access-review-account.png"), full_page=True)

    account = page.url.split("account=")[1]
    got = page.request.get(f"{base}/access-reviews.csv?account={account}")
    assert got.status == 200 and "attachment" in got.headers["content-disposition"]
    table = list(csv.DictReader(io.StringIO(got.text())))
    assert len(table) == rows.count()
    assert any(r["inactive"] == "yes" or r["contact_left"] == "yes" for r in table)
    report = page.request.get(f"{base}/access-reviews.html")
    assert report.status == 200 and "report generated" in report.text()
    assert "<nav>" not in report.text()
