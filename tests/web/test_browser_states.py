"""Page states in headless Chromium: an empty database, an account with too little data to
score, a churned account, the inbox triaged by an operator, and the CSV download."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from model.db import make_engine, make_session_factory, upgrade
from model.lifecycle import churned_on
from model.tables import Account, Escalation, HealthSnapshot
from pulsehub.web.app import create_app
from reporting.common import as_of_day
from tests.web.conftest import OPERATOR_TOKEN, VIEWER_TOKEN, web_settings
from tests.web.server import serve, sign_in

pytestmark = pytest.mark.browser
PAGES = ("/", "/accounts", "/book", "/escalations", "/support", "/adoption", "/ops")


@pytest.fixture
def empty_site(tmp_path) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    upgrade(url)
    engine = make_engine(url)
    with serve(create_app(web_settings(url), make_session_factory(engine))) as base:
        yield base
    engine.dispose()


def test_every_page_reads_right_on_an_empty_database(chromium, empty_site, shots: Path) -> None:
    page = sign_in(chromium, empty_site, VIEWER_TOKEN)
    for path in PAGES:
        response = page.goto(empty_site + path)
        assert response is not None and response.status == 200, path
        text = page.text_content("main") or ""
        assert "Traceback" not in text and "None" not in text, path
    page.goto(empty_site + "/escalations")
    assert page.text_content("[data-testid=inbox-empty]") == "No escalations match."
    page.goto(empty_site + "/")
    assert page.text_content("[data-testid=band-red]") == "0"
    assert "pulsehub sync" in (page.text_content("[data-testid=nothing-synced]") or "")
    page.screenshot(path=str(shots / "empty-overview.png"), full_page=True)


def _one(factory: Any, churned: bool) -> tuple[int, str]:
    with factory() as s:
        day = as_of_day(s)
        stmt = select(Account.id, Account.name).where(Account.is_deleted.is_(False))
        stmt = stmt.where(churned_on(day) if churned else ~churned_on(day))
        if not churned:  # scored, but with too little data
            stmt = stmt.join(HealthSnapshot, HealthSnapshot.account_id == Account.id).where(
                HealthSnapshot.as_of == day, HealthSnapshot.band == "insufficient_data"
            )
        row = s.execute(stmt.limit(1)).first()
    assert row is not None
    return int(row[0]), str(row[1])


def test_insufficient_data_and_churned_accounts_say_so(chromium, site, shots: Path) -> None:
    base, factory = site
    page = sign_in(chromium, base, VIEWER_TOKEN)
    thin, _ = _one(factory, churned=False)
    page.goto(f"{base}/accounts/{thin}")
    assert page.text_content("[data-testid=account-band]") == "insufficient data"
    page.screenshot(path=str(shots / "account-insufficient-data.png"), full_page=True)
    gone, name = _one(factory, churned=True)
    page.goto(f"{base}/accounts/{gone}")
    assert "churn" in (page.text_content("main") or "").lower()
    page.goto(f"{base}/accounts?band=churned")
    assert name in (page.text_content("#account-table") or "")
    page.screenshot(path=str(shots / "accounts-churned.png"), full_page=True)


def test_an_operator_triages_the_inbox_and_downloads_a_csv(chromium, site, shots: Path) -> None:
    base, factory = site
    page = sign_in(chromium, base, OPERATOR_TOKEN)
    page.goto(f"{base}/escalations")
    first = page.locator("[data-testid=inbox-row]").first
    esc_id = int(first.get_attribute("data-id") or 0)
    if first.locator("[data-testid=ack]").count():
        first.locator("[data-testid=ack]").click()
        page.wait_for_selector(".notice")
        with factory() as s:
            assert s.get(Escalation, esc_id).state == "acknowledged"
    page.screenshot(path=str(shots / "escalations.png"), full_page=True)
    row = page.locator(f"[data-testid=inbox-row][data-id='{esc_id}']")
    row.locator("input[name=note]").fill("customer confirmed the fix")
    row.locator("[data-testid=resolve]").click()
    page.wait_for_selector(".notice")
    assert "resolved" in (page.text_content(".notice") or "")
    with factory() as s:
        assert s.get(Escalation, esc_id).state == "resolved"
    page.goto(f"{base}/accounts?band=green")
    with page.expect_download() as download:
        page.click("[data-testid=csv]")
    lines = Path(download.value.path()).read_text().splitlines()
    total = int(page.text_content("[data-testid=accounts-total]") or 0)
    assert lines[0].startswith("id,name") and len(lines) == total + 1


def test_my_book_and_its_digest_preview_and_a_kpi_click_through(
    chromium, site, shots: Path
) -> None:
    base, _ = site
    page = sign_in(chromium, base, VIEWER_TOKEN)
    page.goto(f"{base}/book")
    owner = page.eval_on_selector_all("select[name=owner] option", "os => os.map(o => o.value)")[1]
    page.select_option("select[name=owner]", owner)  # submits on change
    page.wait_for_selector("[data-testid=book-accounts]")
    assert owner in page.url.replace("+", " ").replace("%20", " ")
    preview = page.text_content("[data-testid=digest-preview]") or ""
    assert preview.startswith(f"pulsehub weekly digest for {owner}")
    page.screenshot(path=str(shots / "book.png"), full_page=True)
    page.goto(f"{base}/")
    shown = page.text_content("[data-testid=band-yellow]")
    page.click("a:has([data-testid=band-yellow])")
    page.wait_for_url("**/accounts?band=yellow")
    assert page.text_content("[data-testid=accounts-total]") == shown
