"""Renewals closing on the same day (co-termed contracts) are read in id order, whatever the
query plan: an incremental run (by account id) and a full one (a scan) must compute the same
ARR change. On PostgreSQL a row updated after its sibling moves to the heap's end, so a scan
returned the two in the other order (21 of 40,925 accounts differed at 50,000 accounts)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import update

from model.tables import Opportunity
from scoring.queries import add_opportunities
from scoring.signals import AccountSignals
from tests.scoring.factories import account, opportunity

AS_OF = date(2026, 12, 5)


def test_same_day_renewals_are_read_in_id_order_by_every_plan(session) -> None:
    acct = account(session)
    won = {"is_closed": True, "is_won": True, "stage": "Closed Won"}
    first = opportunity(session, acct, date(2025, 7, 11), amount=100.0, **won)
    opportunity(session, acct, date(2025, 7, 11), amount=400.0, **won)
    opportunity(session, acct, date(2026, 7, 11), amount=200.0, **won)
    # a later edit of the first one (PostgreSQL writes its new version after the others)
    session.execute(update(Opportunity).where(Opportunity.id == first.id).values(name="edited"))
    session.flush()
    for ids in (None, [acct.id]):
        out = {acct.id: AccountSignals(account_id=acct.id, as_of=AS_OF)}
        add_opportunities(session, AS_OF, ids, out)
        assert out[acct.id].arr_change_pct == 200.0 / 400.0 - 1.0, ids
