"""Churned accounts have a status of their own: never counted in current health, shown as churned.

Runs on SQLite and PostgreSQL (`any_db_url`): the lifecycle status is a correlated subquery.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections import Counter

import pytest
from rich.console import Console
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from model.db import make_engine, make_session_factory, transaction, upgrade
from model.tables import Account, HealthSnapshot, Opportunity
from pulsehub.commands.report import app as report_app
from pulsehub.demo import run_demo
from pulsehub.web.app import create_app
from reporting.accounts import list_accounts
from reporting.adoption import load_adoption
from reporting.overview import NO_SNAPSHOT, NOT_YET, load_overview
from tests.web.conftest import VIEWER_TOKEN, client_for, web_settings

DAY = dt.date(2026, 3, 1)


def _acc(s: Session, n: int, **kw: object) -> Account:
    fields: dict[str, object] = {"customer_since": dt.date(2023, 1, 1), "arr": 10_000.0, **kw}
    acc = Account(crm_source="salesforce", crm_id=f"001{n:015d}", name=f"Account {n}", **fields)
    s.add(acc)
    s.flush()
    return acc


def _snap(s: Session, acc: Account, band: str, days_ago: int) -> None:
    score = {"green": 80.0, "yellow": 60.0, "red": 30.0}[band]
    s.add(HealthSnapshot(account_id=acc.id, as_of=DAY - dt.timedelta(days=days_ago), band=band,
                         score=score, risk_level="high", renewal_risk=0.8))  # fmt: skip


def _renewal(s: Session, acc: Account, days_ago: int, won: bool) -> None:
    s.add(Opportunity(source="salesforce", crm_id=f"006{acc.id:06d}{days_ago:09d}", account_id=acc.id, type="Renewal",
                      close_date=DAY - dt.timedelta(days=days_ago), amount=10_000.0,
                      is_closed=True, is_won=won))  # fmt: skip


def build(s: Session) -> dict[str, int]:
    """A book whose newest snapshots hold 1 green and 1 yellow, plus what must not count."""
    green = _acc(s, 1, arr=50_000.0)
    _snap(s, green, "green", 0)
    lost = _acc(s, 2, arr=0.0, renewal_date=DAY + dt.timedelta(days=20))  # churned 10 days ago
    _snap(s, lost, "green", 20)
    _snap(s, lost, "red", 12)  # its last snapshot, from before the churn: red, and a "mover"
    _renewal(s, lost, 400, won=True)
    _renewal(s, lost, 10, won=False)
    stage = _acc(s, 3, arr=0.0, lifecycle_stage=" Churned ")  # Salesforce says it left
    _snap(s, stage, "red", 30)
    resigned = _acc(s, 4, arr=20_000.0)  # lost once, then won a later renewal: a customer
    _renewal(s, resigned, 300, won=False)
    _renewal(s, resigned, 5, won=True)
    _snap(s, resigned, "yellow", 0)
    _acc(s, 5, customer_since=DAY + dt.timedelta(days=3))  # signed, starts later
    _acc(s, 6)  # synced, never scored
    gone = _acc(s, 7, is_deleted=True)
    _snap(s, gone, "red", 0)
    return {"lost": lost.id, "stage": stage.id}


@pytest.fixture
def factory(any_db_url):  # type: ignore[no-untyped-def]
    upgrade(any_db_url)
    engine = make_engine(any_db_url)
    factory = make_session_factory(engine)
    with transaction(factory) as s:
        build(s)
    yield factory
    engine.dispose()


def test_churned_accounts_are_not_counted_as_current_health(factory) -> None:
    with factory() as s:
        ov = load_overview(s)
    assert ov.as_of == DAY
    assert ov.bands == {"green": 1, "yellow": 1, "red": 0, "insufficient_data": 0}
    assert ov.arr_by_band["red"] == 0 and ov.total_arr == 70_000
    assert ov.churned == 2
    assert ov.unscored == 2 and ov.unscored_reasons == {NOT_YET: 1, NO_SNAPSHOT: 1}
    assert ov.accounts == 6 == sum(ov.bands.values()) + ov.unscored + ov.churned
    assert ov.current == 4
    assert all(r.accounts == 0 for r in ov.renewals)  # the churned account renews nothing
    assert ov.upcoming == [] and ov.movers_total == 0
    with factory() as s:  # adoption describes current customers too: green and re-signed
        assert load_adoption(s, DAY).by_segment["unknown"]["accounts"] == 2


def test_api_and_page_show_churned_apart(factory, any_db_url) -> None:
    client = client_for(create_app(web_settings(any_db_url), factory), VIEWER_TOKEN)
    data = client.get("/api/overview").json()
    assert data["bands"]["red"] == 0 and data["churned"] == 2 and data["accounts"] == 6
    assert data["unscored_reasons"] == {NOT_YET: 1, NO_SNAPSHOT: 1}
    page = client.get("/", headers={"Accept": "text/html"}).text
    assert 'data-testid="band-churned">2<' in page
    assert 'data-testid="band-red">0<' in page


def test_account_list_and_page_mark_churned_accounts(factory, any_db_url) -> None:
    with factory() as s:
        ids = {a.name: a.id for a in s.scalars(select(Account))}
        churned = list_accounts(s, band="churned")
        red = list_accounts(s, band="red")
        unscored = list_accounts(s, band="unscored")
        everyone = list_accounts(s)
    assert {r["id"] for r in churned.rows} == {ids["Account 2"], ids["Account 3"]}
    assert red.total == 0  # their stale red snapshots no longer pass for current health
    assert {r["id"] for r in unscored.rows} == {ids["Account 5"], ids["Account 6"]}
    assert {r["status"] for r in everyone.rows} == {"customer", "churned", "not_yet_customer"}
    client = client_for(create_app(web_settings(any_db_url), factory), VIEWER_TOKEN)
    listing = client.get("/accounts?band=churned", headers={"Accept": "text/html"}).text
    assert listing.count('data-testid="churned"') == 2
    page = client.get(f"/accounts/{ids['Account 2']}", headers={"Accept": "text/html"}).text
    assert 'data-testid="account-status">churned<' in page and "last health before churn" in page
    page = client.get(f"/accounts/{ids['Account 1']}", headers={"Accept": "text/html"}).text
    assert "account-status" not in page


def test_report_lists_churned_apart_from_red(factory, any_db_url) -> None:
    result = CliRunner().invoke(report_app, ["--database", any_db_url], terminal_width=160)
    assert result.exit_code == 0, result.output
    assert "6 accounts (4 current customers, 2 churned)" in result.output
    rows = {line.split("│")[1].strip(): line.split("│")[2].strip()
            for line in result.output.splitlines() if line.startswith("│")}  # fmt: skip
    assert rows["red"] == "0" and rows["churned"] == "2" and rows["not scored"] == "2"


@pytest.mark.slow
def test_demo_summary_adds_up_and_matches_todays_snapshots(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    out = io.StringIO()
    assert run_demo(Console(file=out, width=200), accounts=60, seed=7, database_url=url) == 0
    text = out.getvalue()
    synced = int(re.search(r"accounts synced\s*│\s*(\d+)", text)[1])  # type: ignore[index]
    bands = {b: int(n) for b, n in re.findall(r"(green|yellow|red|insufficient_data): (\d+)", text)}
    churned = int(re.search(r"│ churned\s*│\s*(\d+)", text)[1])  # type: ignore[index]
    unscored = int(re.search(r"│ not scored\s*│\s*(\d+)", text)[1])  # type: ignore[index]
    assert synced == sum(bands.values()) + churned + unscored, text
    assert churned > 0  # the sandbox has accounts that lost their renewal
    engine = make_engine(url)
    with make_session_factory(engine)() as s:
        today = s.scalar(select(func.max(HealthSnapshot.as_of)))
        scored_today = Counter(
            s.scalars(select(HealthSnapshot.band).where(HealthSnapshot.as_of == today))
        )
        ov = load_overview(s)
    engine.dispose()
    assert bands == {b: scored_today.get(b, 0) for b in bands}  # no stale snapshot counted
    assert (ov.accounts, ov.bands, ov.churned) == (synced, bands, churned)
