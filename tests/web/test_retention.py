"""The Retention page, `/api/retention` and `pulsehub report` show the same, hand-computed figures.

The book is tests/reporting/retention_fixture.py, stored through the ORM in a migrated SQLite
database (so the SQL that loads it is exercised); one health snapshot dated 2025-12-31 makes
that the dashboard's day. Expected values are the hand computations of
tests/reporting/test_retention.py: trailing 12 months GRR 334/385 = 86.8%, NRR 356/385 = 92.5%,
renewal rate 4/6 = 66.7%, logo churn 2/7 = 28.6%; 2025 Q4 GRR = NRR = 361/367 = 98.4%.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from model.db import make_engine, make_session_factory, transaction, upgrade
from model.tables import Account, Escalation, HealthSnapshot, Opportunity, Ticket
from pulsehub.web.app import create_app
from tests.reporting.retention_fixture import AS_OF, CUSTOMERS, DEALS
from tests.web.conftest import VIEWER_TOKEN, client_for, web_settings

EXPECTED = {  # (JSON value, as the page and the report print it)
    "grr-t12m": (round(334 / 385, 4), "86.8%"),
    "nrr-t12m": (round(356 / 385, 4), "92.5%"),
    "renewal-rate-t12m": (round(4 / 6, 4), "66.7%"),
    "logo-churn-t12m": (round(2 / 7, 4), "28.6%"),
    "grr-quarter": (round(361 / 367, 4), "98.4%"),
    "nrr-quarter": (round(361 / 367, 4), "98.4%"),
}


def store_book(session: Session) -> None:
    """The fixture book as model rows, plus some support effort for cost-to-serve."""
    for c in CUSTOMERS:
        session.add(
            Account(id=c.id, crm_id=f"001{c.id:015d}", name=f"Account {c.id}", segment=c.segment,
                    tier=c.tier, owner_name=c.csm, customer_since=c.customer_since, arr=c.arr,
                    lifecycle_stage="Former Customer" if c.arr == 0 and c.parent_id is None
                    else "Adoption")
        )  # fmt: skip
    session.flush()
    for c in CUSTOMERS:
        session.get(Account, c.id).parent_id = c.parent_id  # type: ignore[union-attr]
    for n, d in enumerate(DEALS):
        session.add(
            Opportunity(source="salesforce", crm_id=f"006{n:015d}", account_id=d.account_id, type=d.type,
                        stage="Closed Won" if d.is_won else "Closed Lost", amount=d.amount,
                        close_date=d.close_date, is_closed=True, is_won=d.is_won,
                        term_months=d.term_months)
        )  # fmt: skip
    session.add(Opportunity(source="salesforce", crm_id="006open", account_id=1, type="Renewal", stage="Negotiation",
                            amount=130_000, close_date=dt.date(2026, 1, 15)))  # fmt: skip
    session.add(HealthSnapshot(account_id=1, as_of=AS_OF, score=80.0, band="green"))
    at = dt.datetime(2025, 6, 1, 12, tzinfo=dt.UTC)
    for n in range(4):  # SMB account 8: 4 tickets, 3 replies each
        session.add(Ticket(source="zendesk", helpdesk_id=900 + n, account_id=8, status="solved", created_at=at,
                           updated_at=at, replies=3, full_resolution_minutes=600.0))  # fmt: skip
    session.add(Escalation(dedup_key="e1", account_id=8, rule="r", severity="sev2",
                           title="t", opened_at=at))  # fmt: skip


@pytest.fixture(scope="module")
def book_url(tmp_path_factory) -> str:  # type: ignore[no-untyped-def]
    path: Path = tmp_path_factory.mktemp("retention") / "book.db"
    url = f"sqlite:///{path}"
    upgrade(url)
    engine = make_engine(url)
    with transaction(make_session_factory(engine)) as session:
        store_book(session)
    engine.dispose()
    return url


@pytest.fixture(scope="module")
def client(book_url):  # type: ignore[no-untyped-def]
    engine = make_engine(book_url)
    yield client_for(create_app(web_settings(book_url), make_session_factory(engine)), VIEWER_TOKEN)
    engine.dispose()


def _api_values(data: dict) -> dict[str, float]:  # type: ignore[type-arg]
    tt, lq = data["trailing_12_months"], data["last_quarter"]
    return {
        "grr-t12m": tt["grr"], "nrr-t12m": tt["nrr"], "renewal-rate-t12m": tt["renewals"]["rate"],
        "logo-churn-t12m": tt["logo_churn"], "grr-quarter": lq["grr"], "nrr-quarter": lq["nrr"],
    }  # fmt: skip


def test_api_serves_the_hand_computed_figures(client) -> None:  # type: ignore[no-untyped-def]
    data = client.get("/api/retention").json()
    assert data["as_of"] == "2025-12-31"
    assert _api_values(data) == {k: v for k, (v, _) in EXPECTED.items()}
    tt = data["trailing_12_months"]
    assert (tt["start_arr"], tt["expansion"], tt["contraction"], tt["churn"]) == (
        385_000, 22_000, 16_000, 35_000,
    )  # fmt: skip
    assert tt["renewals"]["moved_within_family"] == 1 and tt["renewals"]["late"] == 1
    months = {m["label"]: m for m in data["months"]}
    assert [m["label"] for m in data["months"]] == [f"2025-{n:02d}" for n in range(1, 13)]
    assert months["2025-06"]["expansion"] == 20_000  # A's mid-term expansion on 06-01
    assert months["2025-07"]["churn"] == 10_000  # I lapsed on 07-01 (due 06-01 + 30 days)
    assert months["2025-09"]["churn"] == 25_000  # E's lost renewal
    assert months["2025-03"]["renewals"]["late"] == 1  # B: due 03-01, won 03-20
    smb = next(c for c in data["cost_to_serve"] if c["segment"] == "SMB")
    # E (churned 2025-09-01) and H (new) were both customers in the window: 2 customers.
    # 4 tickets x 12 min + 12 replies x 6 min = 120 min = 2 h x $45 = $90; 1 escalation $400
    assert (smb["customers"], smb["tickets"], smb["replies"], smb["escalations"]) == (2, 4, 12, 1)
    assert (smb["support_cost"], smb["escalation_cost"], smb["total_cost"]) == (90, 400, 490)
    assert smb["cost_per_customer"] == 245  # 490 / 2
    # average ARR: E (25k + 0) / 2 + H (0 + 5k) / 2 = 15k; 490 / 15,000
    assert smb["cost_per_arr_dollar"] == round(490 / 15_000, 4)
    assert client.get("/api/retention", headers={"Authorization": ""}).status_code in (401, 403)


def test_page_shows_the_same_figures(client) -> None:  # type: ignore[no-untyped-def]
    html = client.get("/retention").text
    for key, (_, shown) in EXPECTED.items():
        assert re.search(rf'data-testid="kpi-{key}">{re.escape(shown)}<', html), key
    assert "2024 Q1" in html and 'id="cohorts"' in html and 'id="cost"' in html
    assert 'id="bridge-months"' in html and "<td>2025-03</td>" in html
    assert '<a href="/retention" class="on">Retention</a>' in html


def test_report_prints_the_same_figures(book_url) -> None:
    from pulsehub.commands.report import app

    result = CliRunner().invoke(app, ["--database", book_url], terminal_width=200)
    assert result.exit_code == 0, result.output
    rows: dict[str, str] = {}
    for line in result.output.splitlines():
        if line.startswith("│"):
            rows.setdefault(line.split("│")[1].strip(), line)  # the first table: the KPIs
    t12m = re.sub(r"\s+", " ", rows["trailing 12 months"])
    assert "│ 86.8% │ 92.5% │ 66.7% │ 28.6% │" in t12m
    assert "│ 98.4% │ 98.4% │" in re.sub(r"\s+", " ", rows["2025 Q4"])


def test_a_bad_retention_file_fails_at_start_up_naming_file_key_and_fix(book_url, tmp_path):
    from reporting.retention_config import RetentionConfigError

    bad = tmp_path / "retention.yaml"
    bad.write_text("renewals:\n  grace_days: -3\ncost_rates:\n  support_hourly: 45\n  coffee: 1\n")
    settings = web_settings(book_url).model_copy(update={"retention_file": bad})
    with pytest.raises(RetentionConfigError) as err:
        create_app(settings)
    text = str(err.value)
    assert str(bad) in text and "renewals.grace_days" in text and "cost_rates.coffee" in text
    assert "remove it or fix its spelling" in text


def test_report_with_a_bad_retention_file_exits_2_naming_it(book_url, tmp_path):
    """The console script, as a user runs it: one message naming file, key and fix; exit 2."""
    import os
    import subprocess
    import sys

    bad = tmp_path / "rates.yaml"
    bad.write_text("cost_rates:\n  support_hourly: lots\n")
    env = {**os.environ, "PULSEHUB_RETENTION_FILE": str(bad)}
    script = Path(sys.executable).with_name("pulsehub")
    out = subprocess.run([str(script), "report", "--database", book_url], env=env,
                         capture_output=True, text=True, timeout=120, check=False)  # fmt: skip
    assert out.returncode == 2, out.stdout + out.stderr
    text = out.stdout + out.stderr
    assert str(bad) in text and "cost_rates.support_hourly" in text and "fix the value" in text
    assert "Traceback" not in text


def test_an_empty_database_shows_dashes_not_errors(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    upgrade(url)
    engine = make_engine(url)
    try:
        client = client_for(create_app(web_settings(url), make_session_factory(engine)),
                            VIEWER_TOKEN)  # fmt: skip
        page = client.get("/retention")
        assert page.status_code == 200
        assert 'data-testid="kpi-grr-t12m">\u2013<' in page.text  # no base: no GRR, not 0%
        assert "No cohort has a complete quarter yet." in page.text
        data = client.get("/api/retention").json()
        assert data["trailing_12_months"]["grr"] is None and data["cohorts"] == []
    finally:
        engine.dispose()
