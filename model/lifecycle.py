"""An account's lifecycle status on a day: a current customer, churned, or not a customer yet.

Churned means the account left, so its last health snapshot (taken while it was still a
customer) no longer describes anything current:
- its latest closed renewal on or before the day was lost (scoring stops scoring it then), or
- its lifecycle stage says it left ("Churned", "Former Customer", "Closed Lost", ...).
ARR 0 alone is not churn (pilots and free tiers carry no ARR); deleted accounts are not
accounts at all and are left out before any status applies.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, func, or_, select

from model.tables import Account, Opportunity

CUSTOMER = "customer"
CHURNED = "churned"
NOT_YET_CUSTOMER = "not_yet_customer"
STATUSES = (CUSTOMER, CHURNED, NOT_YET_CUSTOMER)
RENEWAL = "Renewal"
CHURNED_STAGES = frozenset({"churned", "former customer", "closed lost", "lost", "cancelled"})


def is_churned_stage(stage: str | None) -> bool:
    """Whether a lifecycle stage value says the customer left."""
    return (stage or "").strip().lower() in CHURNED_STAGES


def lost_last_renewal(day: dt.date) -> Select[tuple[int | None]]:
    """SQL: ids of accounts with a renewal lost on or before `day` and none won after it.

    Not correlated with the outer query: one pass over the (few) lost renewals, each checked
    for a later win on the opportunities' account_id index, evaluated once per statement."""
    lost = Opportunity.__table__.alias("lost")
    won = Opportunity.__table__.alias("won")

    def renewal(o: Any) -> ColumnElement[bool]:
        return and_(o.c.type == RENEWAL, o.c.is_closed.is_(True), o.c.is_deleted.is_(False),
                    o.c.close_date <= day)  # fmt: skip

    later_win = select(won.c.id).where(
        won.c.account_id == lost.c.account_id,
        renewal(won),
        won.c.is_won.is_(True),
        won.c.close_date > lost.c.close_date,
    )
    return select(lost.c.account_id).where(
        lost.c.account_id.is_not(None), renewal(lost), lost.c.is_won.is_(False), ~later_win.exists()
    )


def churned_on(day: dt.date) -> ColumnElement[bool]:
    """SQL, per account row: true when the account had churned by `day` (never NULL)."""
    return or_(
        Account.id.in_(lost_last_renewal(day)),
        func.lower(func.trim(func.coalesce(Account.lifecycle_stage, ""))).in_(
            sorted(CHURNED_STAGES)
        ),
    )


def status_on(day: dt.date) -> ColumnElement[str]:
    """SQL, per account row: its lifecycle status on `day` (one of STATUSES)."""
    return case(
        (churned_on(day), CHURNED),
        (and_(Account.customer_since.is_not(None), Account.customer_since > day), NOT_YET_CUSTOMER),
        else_=CUSTOMER,
    )
