"""The CS operations page in headless Chromium, on a database synced from the sandbox twice:
once, then again after the sandbox moved its incomplete-handoff account to support (so the
page shows a real handoff) with an out-of-office cover in force."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
from sqlalchemy import select

from csops.covers import add_cover
from model.db import make_engine, make_session_factory, transaction, upgrade
from model.tables import Account, Handoff, OnboardingPhase
from pulsehub.demo import sandbox_settings
from pulsehub.runtime import Runtime
from pulsehub.web.app import create_app
from sandbox import Sandbox
from tests.web.conftest import VIEWER_TOKEN, web_settings
from tests.web.server import serve, sign_in

pytestmark = pytest.mark.browser


@pytest.fixture
def ops_site(tmp_path):
    url = f"sqlite:///{tmp_path / 'ops.db'}"
    upgrade(url)
    with Sandbox(accounts=60, seed=1) as sb:  # its overloaded CSM stays well over target
        truth = sb.world.truth["csops"]
        rt = Runtime(sandbox_settings(sb.base_url, url))
        assert rt.sync().errors == []
        acc = sb.world.sf["Account"][truth["incomplete_handoff"]]
        age = (sb.world.clock.today() - acc["Customer_Since__c"]).days
        sb.advance(max(1, 121 - age))  # the sandbox moves it from Onboarding to Adoption
        assert acc["Lifecycle_Stage__c"] == "Adoption"
        today = dt.datetime.now(dt.UTC).date()
        owners = sorted({a["OwnerId"] for a in sb.world.sf["Account"].values()})
        with transaction(rt.factory) as s:
            add_cover(
                s, owners[1], owners[2], today, today + dt.timedelta(days=9), "parental leave"
            )
        assert rt.sync().errors == []
        rt.close()
    engine = make_engine(url)
    factory = make_session_factory(engine)
    with serve(create_app(web_settings(url), factory)) as base:
        yield base, factory, truth
    engine.dispose()


def test_cs_ops_page_shows_phases_stalls_handoffs_workload_and_cover(chromium, ops_site, shots):
    base, factory, truth = ops_site
    with factory() as s:
        phases = Counter(
            s.scalars(select(OnboardingPhase.phase).where(OnboardingPhase.exited_on.is_(None)))
        )
        stalled = s.scalar(
            select(Account.name).where(Account.crm_id == truth["stalled_onboarding"])
        )
        [handoff] = s.scalars(select(Handoff)).all()
        handed = s.get(Account, handoff.account_id)
        heavy = s.scalar(select(Account.owner_name).where(Account.owner_crm_id == truth["overloaded_csm"]).limit(1))  # fmt: skip
    page = sign_in(chromium, base, VIEWER_TOKEN)
    response = page.goto(f"{base}/cs-ops")
    assert response is not None and response.status == 200
    shown = {
        row.locator("td").nth(0).text_content(): row.locator("td").nth(1).text_content()
        for row in page.locator("#phase-targets tbody tr").all()
    }
    assert {k: int(v or 0) for k, v in shown.items() if int(v or 0)} == dict(phases)
    assert stalled in page.locator("#stalled-table").text_content()
    handoffs = page.locator("#handoffs-table").text_content()
    assert handed.name in handoffs and f"missing: {', '.join(handoff.missing)}" in handoffs
    assert {"Success plan", "Implementation notes"} <= set(handoff.missing)  # the story's gaps
    assert "incomplete 0 of 1 (0%)" in " ".join(page.locator("#handoffs p").text_content().split())
    row = page.locator("#workload-table tbody tr").first
    assert row.locator("td").first.text_content() == heavy
    assert "overloaded" in row.text_content()
    assert page.locator("#moves-table tbody tr").count() >= 1
    assert "parental leave" in page.locator("#covers-table").text_content()
    assert "(now)" in page.locator("#covers-table").text_content()
    page.screenshot(path=str(shots / "cs_ops.png"), full_page=True)
    api = page.request.get(f"{base}/api/cs-ops")  # the same figures for scripts
    assert api.status == 200
    data = api.json()
    assert {p["phase"]: p["accounts"] for p in data["phases"] if p["accounts"]} == dict(phases)
    assert stalled in {s["account"] for s in data["stalled"]}
    assert data["handoff_kpi"]["incomplete"]["handoffs"] == 1
    assert data["workload"]["owners"][0]["owner"] == truth["overloaded_csm"]
    page.locator("#handoffs-table a", has_text=handed.name).click()  # the account's milestones
    page.wait_for_url(f"**/accounts/{handed.id}")
    milestones = page.locator("[data-testid=onboarding]").text_content()
    assert "handoff" in milestones and "missing: Success plan" in milestones
    with factory() as s:
        mine = s.scalars(
            select(OnboardingPhase).where(OnboardingPhase.account_id == handed.id)
        ).all()
    assert mine and all(f"{p.phase}{p.entered_on}" in milestones for p in mine)
