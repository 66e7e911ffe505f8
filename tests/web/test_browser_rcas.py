"""/rcas in headless Chromium: overdue, due and done RCAs with the quarter's compliance, and
an operator marking one done."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select

from model.db import transaction
from model.tables import Escalation, RcaReview, utcnow
from pulsehub.web.app import create_app
from tests.web.conftest import OPERATOR_TOKEN, web_settings
from tests.web.server import serve, sign_in

pytestmark = pytest.mark.browser


def test_rca_page_flags_overdue_and_an_operator_marks_one_done(chromium, book_factory, shots: Path):
    factory, _, url = book_factory
    now = utcnow()
    with transaction(factory) as s:
        escs = s.scalars(select(Escalation).order_by(Escalation.id).limit(3)).all()
        assert len(escs) == 3
        solved = [now - dt.timedelta(hours=h) for h in (100, 10, 90)]
        for esc, at in zip(escs, solved, strict=True):
            s.add(RcaReview(escalation_id=esc.id, account_id=esc.account_id,
                            helpdesk_ticket_id=9000 + esc.id, solved_at=at,
                            due_at=at + dt.timedelta(hours=72)))  # fmt: skip
        s.flush()
        done = s.scalars(select(RcaReview).where(RcaReview.escalation_id == escs[2].id)).one()
        done.done_at, done.done_by = solved[2] + dt.timedelta(hours=30), "tag:rca_done"
        overdue_id = escs[0].id
    with serve(create_app(web_settings(url), factory)) as base:
        page = sign_in(chromium, base, OPERATOR_TOKEN)
        page.goto(base + "/rcas")
        states = page.locator("[data-testid=rca-state]").all_text_contents()
        assert sorted(states) == ["done on time", "due", "overdue"]
        assert page.text_content("[data-testid=rca-overdue]") == "1"
        assert page.text_content("[data-testid=rca-compliance]") == "50%"  # 1 on time of 2 due
        page.screenshot(path=str(shots / "rcas.png"), full_page=True)
        page.select_option("select[name=state]", "overdue")
        page.wait_for_url("**state=overdue")
        assert page.locator("[data-testid=rca-row]").count() == 1
        page.click("button:has-text('Mark done')")
        page.wait_for_url("**/rcas?done=*")
        assert "marked done" in (page.text_content("[role=status]") or "")
        assert page.text_content("[data-testid=rca-overdue]") == "0"
        assert sorted(page.locator("[data-testid=rca-state]").all_text_contents()) == [
            "done late", "done on time", "due",
        ]  # fmt: skip
        page.screenshot(path=str(shots / "rcas-marked.png"), full_page=True)
    with factory() as s:
        marked = s.scalars(select(RcaReview).where(RcaReview.escalation_id == overdue_id)).one()
        assert marked.done_at is not None and marked.done_by


def test_rca_and_access_pages_read_right_on_an_empty_database(tmp_path):
    from model.db import make_engine, make_session_factory, upgrade
    from tests.web.conftest import VIEWER_TOKEN, client_for

    url = f"sqlite:///{tmp_path / 'empty.db'}"
    upgrade(url)
    engine = make_engine(url)
    client = client_for(create_app(web_settings(url), make_session_factory(engine)), VIEWER_TOKEN)
    rcas = client.get("/rcas")
    assert rcas.status_code == 200 and "No root-cause analyses are owed yet." in rcas.text
    access = client.get("/access-reviews")
    assert access.status_code == 200 and "No product users pulled yet" in access.text
    download = client.get("/access-reviews.csv")
    assert download.status_code == 200 and download.text.startswith("account_id,account,email")
    assert client.post("/rcas/1/done").status_code in {401, 403}  # a reader marks nothing
    engine.dispose()
