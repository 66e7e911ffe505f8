"""The account list as CSV: every matching row (not one page), same filters, formulas defused."""

from __future__ import annotations

import csv
import io

from sqlalchemy import update

from model.tables import Account
from reporting.accounts import list_accounts
from tests.web.conftest import VIEWER_TOKEN, client_for


def test_csv_holds_every_matching_account_with_the_pages_filters(app_parts) -> None:
    app, factory, _ = app_parts
    client = client_for(app, VIEWER_TOKEN)
    with factory() as s, s.begin():
        first = s.scalars(Account.__table__.select().limit(1)).first()
        s.execute(update(Account).where(Account.id == first).values(name='=HYPERLINK("x")'))
    r = client.get("/accounts.csv?sort=name&desc=false")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(r.text)))
    with factory() as s:
        every = list_accounts(s, sort="name", desc=False, page_size=None)
        segment = next(x["segment"] for x in every.rows if x["segment"])
        some = list_accounts(s, segment=segment, page_size=None)
    assert len(rows) == every.total > 100, "more than one page of the list"
    assert [int(x["id"]) for x in rows] == [a["id"] for a in every.rows]
    assert "'=HYPERLINK" in r.text and "\n=HYPERLINK" not in r.text
    seg = list(
        csv.DictReader(io.StringIO(client.get("/accounts.csv", params={"segment": segment}).text))
    )
    assert len(seg) == some.total and {x["segment"] for x in seg} == {segment}
    page = client.get("/accounts", params={"segment": segment}).text
    assert f"segment={segment}" in page.replace("%20", " ") and 'data-testid="csv"' in page
