"""The dashboard in headless Chromium against a real uvicorn server on 127.0.0.1.

The database is filled by `pulsehub demo` from the sandbox (see `demo_template`). Checks the
key numbers against the database (counted here independently, in Python),
clicks through to an account, runs the operator actions end to end and saves screenshots
(to PULSEHUB_SCREENSHOTS, e.g. docs/screenshots, or a temporary directory).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

import pytest
from sqlalchemy import select

from model.db import transaction
from model.lifecycle import CHURNED_STAGES
from model.tables import (
    Account,
    Escalation,
    ExternalIdentity,
    HealthSnapshot,
    Opportunity,
    OutboxItem,
    ScoreOverride,
)
from sync.outbox import record_failure
from tests.web.conftest import OPERATOR_TOKEN, VIEWER_TOKEN
from tests.web.server import sign_in

pytestmark = pytest.mark.browser


def expected_overview(factory: Any) -> dict[str, Any]:
    """The overview's numbers recomputed from plain rows, without the dashboard's queries."""
    with factory() as s:
        live = {a.id: a for a in s.scalars(select(Account).where(Account.is_deleted.is_(False)))}
        newest: dict[int, HealthSnapshot] = {}
        for snap in s.scalars(select(HealthSnapshot)):
            if snap.account_id in live and (
                snap.account_id not in newest or snap.as_of > newest[snap.account_id].as_of
            ):
                newest[snap.account_id] = snap
        today = max(n.as_of for n in newest.values())
        churned = _churned(s, live, today)
        current = {i: a for i, a in live.items() if i not in churned}
        bands = Counter(n.band for i, n in newest.items() if i in current)
        renew_30 = sum(
            1 for a in current.values()
            if a.renewal_date and today <= a.renewal_date <= today + dt.timedelta(days=30)
        )  # fmt: skip
        open_esc = sum(
            1 for e in s.scalars(select(Escalation)) if e.state in ("open", "acknowledged")
        )
    return {
        "bands": bands,
        "churned": len(churned),
        "unscored": len(current) - sum(bands.values()),
        "renew_30": renew_30,
        "open_esc": open_esc,
    }


def _churned(s: Any, live: dict[int, Account], today: dt.date) -> set[int]:
    """Accounts whose latest renewal closed by `today` was lost, or whose stage says they left."""
    last: dict[int, Opportunity] = {}
    for o in s.scalars(select(Opportunity).order_by(Opportunity.close_date, Opportunity.id)):
        if o.type == "Renewal" and o.is_closed and not o.is_deleted and o.close_date <= today:
            last[o.account_id] = o
    return {
        i for i, a in live.items()
        if (i in last and not last[i].is_won) or (a.lifecycle_stage or "").strip().lower() in CHURNED_STAGES
    }  # fmt: skip


def test_overview_numbers_match_the_database_and_click_through(chromium, site, shots):
    base, factory = site
    page = sign_in(chromium, base, VIEWER_TOKEN)
    want = expected_overview(factory)
    assert sum(want["bands"].values()) > 0
    for band in ("green", "yellow", "red", "insufficient_data"):
        assert page.text_content(f"[data-testid=band-{band}]") == str(want["bands"][band])
    assert page.text_content("[data-testid=band-unscored]") == str(want["unscored"])
    assert want["churned"] > 0  # the demo's sandbox has accounts that lost their renewal
    assert page.text_content("[data-testid=band-churned]") == str(want["churned"])
    assert page.text_content("[data-testid=renewals-30]") == str(want["renew_30"])
    assert page.text_content("[data-testid=open-escalations]") == str(want["open_esc"])
    assert page.locator("svg.chart").count() >= 3
    page.screenshot(path=str(shots / "overview.png"), full_page=True)

    links = page.locator("table >> a[href^='/accounts/']")
    if links.count() == 0:  # no renewal or band change this week: go through the account list
        page.goto(f"{base}/accounts")
    link = page.locator("table >> a[href^='/accounts/']").first
    name = link.text_content()
    link.click()
    page.wait_for_selector("[data-testid=account-name]")
    assert page.text_content("[data-testid=account-name]") == name
    account_id = int(page.url.rsplit("/", 1)[1])
    with factory() as s:
        snap = s.scalars(
            select(HealthSnapshot).where(HealthSnapshot.account_id == account_id)
            .order_by(HealthSnapshot.as_of.desc()).limit(1)
        ).one()  # fmt: skip
    shown = "\u2013" if snap.score is None else f"{snap.score:,.0f}"
    assert page.text_content("[data-testid=account-score]") == shown
    assert page.locator("[data-testid=reasons] li").count() == len(snap.reasons)
    assert page.locator("#signals tbody tr").count() > 0
    page.screenshot(path=str(shots / "account.png"), full_page=True)


@pytest.mark.parametrize(
    "path, heading",
    [("/accounts", "Accounts"), ("/support", "Support KPIs"), ("/adoption", "Onboarding & adoption"),
     ("/book", "My book"), ("/escalations", "Escalations"), ("/ops", "Operations"), ("/ops/identities", "Identity review"), ("/ops/overrides", "Score overrides"),
     ("/ops/audit", "Score audit")],
)  # fmt: skip
def test_every_page_renders(chromium, site, shots, path, heading):
    base, _ = site
    page = sign_in(chromium, base, VIEWER_TOKEN)
    response = page.goto(base + path)
    assert response is not None and response.status == 200
    assert page.text_content("h1") == heading
    name = path.strip("/").replace("/", "-")
    page.screenshot(path=str(shots / f"{name}.png"), full_page=True)


def test_tables_sort_and_filter_in_the_browser(chromium, site):
    base, factory = site
    page = sign_in(chromium, base, VIEWER_TOKEN)
    page.goto(f"{base}/accounts")
    with factory() as s:
        live = list(s.scalars(select(Account).where(Account.is_deleted.is_(False))))
    rows = page.locator("#account-table tbody tr")
    assert rows.count() == min(100, len(live))
    page.click("#account-table th:has-text('ARR')")  # client-side sort, ascending first
    values = [float(v) for v in page.eval_on_selector_all(
        "#account-table tbody tr td:nth-child(3)", "cells => cells.map(c => c.dataset.v)")]  # fmt: skip
    assert values == sorted(values)
    assert values[0] == min(a.arr or 0 for a in live)
    owner = next(a.owner_name for a in live if a.owner_name)
    page.fill("input[data-filter=account-table]", owner)
    visible = page.locator("#account-table tbody tr:visible").count()
    assert visible == sum(1 for a in live if owner in (a.owner_name or "") or owner in a.name)
    page.select_option("select[name=band]", "green")
    page.click("form.filter button.primary")
    page.wait_for_url("**band=green**")
    bands = page.eval_on_selector_all(
        "#account-table tbody tr td:nth-child(4)", "cells => cells.map(c => c.textContent.trim())"
    )
    assert bands and set(bands) == {"green"}


def make_dead_letter(factory: Any) -> int:
    """Fail one outbox write for good, the way the pusher does when an API refuses it."""
    with transaction(factory) as s:
        item = s.scalars(select(OutboxItem).order_by(OutboxItem.id)).first()
        assert item is not None, "the demo wrote nothing back"
        record_failure(
            s,
            item,
            retriable=False,
            message="No such column 'Health_Band__c'",
            code="INVALID_FIELD",
        )
        return item.id


def test_operator_actions_end_to_end(chromium, site):
    base, factory = site
    dead = make_dead_letter(factory)
    page = sign_in(chromium, base, OPERATOR_TOKEN)
    assert "operator" in (page.text_content("[data-testid=who]") or "")

    # retry a dead letter
    page.goto(f"{base}/ops")
    assert page.text_content("[data-testid=dead-count]") == "1"
    assert "INVALID_FIELD" in page.text_content("#dead")
    page.check(f"input[name=item_id][value='{dead}']")
    page.click("[data-testid=retry]")
    page.wait_for_selector(".notice")
    assert "1 dead letter(s) re-queued" in page.text_content(".notice")
    with factory() as s:
        assert s.get(OutboxItem, dead).status == "pending"

    # accept a proposed identity link
    page.goto(f"{base}/ops/identities")
    with factory() as s:
        ident = s.scalars(
            select(ExternalIdentity).where(ExternalIdentity.status == "ambiguous").order_by(ExternalIdentity.id)
        ).first()  # fmt: skip
        assert ident is not None and len(ident.candidates) >= 2, (
            "the sandbox proposes ambiguous links"
        )
        chosen = ident.candidates[1]
    row = page.locator(f"tr[data-identity='{ident.id}']")
    row.locator("select[name=account_id]").select_option(str(chosen))
    row.locator("button[value=accept]").click()
    page.wait_for_selector(".notice")
    with factory() as s:
        linked = s.get(ExternalIdentity, ident.id)
        assert (linked.status, linked.account_id, linked.manual) == ("linked", chosen, True)
    assert page.locator(f"tr[data-identity='{ident.id}']").count() == 0

    # set an override with a reason and an expiry
    with factory() as s:
        target = s.scalar(
            select(Account.id).where(Account.is_deleted.is_(False)).order_by(Account.id)
        )
    page.goto(f"{base}/accounts/{target}")
    page.click("text=Set an override")
    form = page.locator("[data-testid=override-form]")
    form.locator("select[name=band]").select_option("green")
    form.locator("input[name=days]").fill("14")
    form.locator("input[name=reason]").fill("exec sponsor confirmed renewal on the QBR call")
    form.locator("button").click()
    page.wait_for_selector(".notice")
    with factory() as s:
        override = s.scalars(select(ScoreOverride).order_by(ScoreOverride.id.desc())).first()
    assert (override.account_id, override.band, override.author) == (
        target,
        "green",
        "ops:operator",
    )
    left = override.expires_at - override.created_at
    assert dt.timedelta(days=13, hours=23) < left <= dt.timedelta(days=14)
    assert "exec sponsor confirmed" in page.text_content("#overrides")


def test_read_only_user_sees_no_action_controls(chromium, site):
    base, factory = site
    make_dead_letter(factory)
    page = sign_in(chromium, base, VIEWER_TOKEN)
    page.goto(f"{base}/ops")
    assert page.locator("[data-testid=retry]").count() == 0
    page.goto(f"{base}/ops/identities")
    assert page.locator("button[value=accept]").count() == 0
    page.goto(f"{base}/ops/overrides")
    assert page.locator("[data-testid=override-form]").count() == 0
