"""My book: one owner's accounts, renewals due, open escalations and tasks, from the database."""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import select

from model.tables import Account, Escalation
from reporting.common import as_of_day
from tests.web.conftest import VIEWER_TOKEN, client_for


def test_an_owners_book_matches_the_database(app_parts) -> None:
    app, factory, _ = app_parts
    with factory() as s:
        owner = s.scalars(select(Account.owner_name).where(Account.owner_name.is_not(None))).first()
        mine = list(
            s.scalars(
                select(Account).where(Account.owner_name == owner, Account.is_deleted.is_(False))
            )
        )
        today = as_of_day(s)
        due = [
            a
            for a in mine
            if a.renewal_date and today <= a.renewal_date <= today + dt.timedelta(days=90)
        ]
        ids = {a.id for a in mine}
        open_esc = [
            e for e in s.scalars(select(Escalation).where(Escalation.state.in_(("open", "acknowledged"))))
            if e.account_id in ids
        ]  # fmt: skip
    page = client_for(app, VIEWER_TOKEN).get("/book", params={"owner": owner})
    assert page.status_code == 200

    def kpi(name: str) -> int:
        m = re.search(rf'data-testid="book-{name}">(?:<a [^>]*>)?(\d+)', page.text)
        assert m, name
        return int(m.group(1))

    assert kpi("accounts") == len(mine) > 0
    assert kpi("renewals") == len(due)
    assert kpi("escalations") == len(open_esc)
    assert all(a.name in page.text for a in mine[:20])


def test_without_an_owner_the_page_asks_for_one(app_parts) -> None:
    app, _, _ = app_parts
    page = client_for(app, VIEWER_TOKEN).get("/book?owner=nobody-by-that-name")
    assert page.status_code == 200 and "Choose an owner" in page.text
