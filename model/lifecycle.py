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

from sqlalchemy import ColumnElement, and_, case, func, or_, select

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


def last_renewal_won(day: dt.date) -> ColumnElement[bool]:
    """SQL, per account row: whether its latest renewal closed on or before `day` was won
    (NULL when it has none). One backward seek per account on opportunities.account_id."""
    o = Opportunity.__table__.alias("renewal")
    return (
        select(o.c.is_won)
        .where(
            o.c.account_id == Account.id,
            o.c.type == RENEWAL,
            o.c.is_closed.is_(True),
            o.c.is_deleted.is_(False),
            o.c.close_date.is_not(None),
            o.c.close_date <= day,
        )
        .order_by(o.c.close_date.desc(), o.c.id.desc())
        .limit(1)
        .scalar_subquery()
    )


def churned_on(day: dt.date) -> ColumnElement[bool]:
    """SQL, per account row: true when the account had churned by `day` (never NULL)."""
    return or_(
        last_renewal_won(day).is_(False),
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
