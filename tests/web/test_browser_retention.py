"""The Retention page in headless Chromium on the sandbox demo: its figures are the API's.

The demo database is `pulsehub demo` against the sandbox (see `demo_template`), whose
contract history has multi-year, late and co-termed renewals, contractions and a family move.
"""

from __future__ import annotations

import pytest

from pulsehub.web.app import create_app
from pulsehub.web.rendering import pct
from reporting.retention import load_retention
from reporting.retention_config import load_retention_config
from reporting.retention_json import retention_to_dict
from tests.web.conftest import VIEWER_TOKEN, client_for, web_settings
from tests.web.server import sign_in

pytestmark = pytest.mark.browser


def test_retention_page_matches_the_api_and_is_screenshotted(chromium, site, demo_factory, shots):
    base, factory = site
    _, url = demo_factory
    with factory() as s:
        expected = retention_to_dict(load_retention(s, load_retention_config()))
    api = client_for(create_app(web_settings(url), factory), VIEWER_TOKEN)
    assert api.get("/api/retention").json() == expected  # the API serves the same read model
    tt, lq = expected["trailing_12_months"], expected["last_quarter"]
    assert tt["start_logos"] > 10 and tt["renewals"]["decided"] > 0  # a book worth showing
    page = sign_in(chromium, base, VIEWER_TOKEN)
    page.click("nav >> text=Retention")
    page.wait_for_url(f"{base}/retention")
    shown = {
        "grr-t12m": tt["grr"], "nrr-t12m": tt["nrr"], "renewal-rate-t12m": tt["renewals"]["rate"],
        "logo-churn-t12m": tt["logo_churn"], "grr-quarter": lq["grr"], "nrr-quarter": lq["nrr"],
        "renewal-rate-quarter": lq["renewals"]["rate"], "logo-churn-quarter": lq["logo_churn"],
    }  # fmt: skip
    for key, value in shown.items():
        assert page.inner_text(f"[data-testid=kpi-{key}]") == pct(value, 1), key
    assert page.locator("svg[aria-label='GRR and NRR by quarter'] path").count() >= 2
    cohort_rows = page.locator("#cohorts tbody tr")
    assert cohort_rows.count() == len(expected["cohorts"])
    first = expected["cohorts"][0]
    assert cohort_rows.nth(0).locator("td").nth(0).inner_text() == first["cohort"]
    segments = page.locator("#by-segment tbody tr td:first-child").all_inner_texts()
    assert segments == [g["name"] for g in expected["by"]["segment"]]
    cost_rows = page.locator("#cost tbody tr")
    assert cost_rows.count() == len(expected["cost_to_serve"]) > 0
    page.screenshot(path=str(shots / "retention.png"), full_page=True)
    page.close()
