"""The SQL aggregates behind `compute_signals`, one function per source, all bounded by `as_of`:
accounts, usage, contacts and opportunities here; tickets and escalations in support_queries.py."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, Row, and_, case, func, or_, select
from sqlalchemy.orm import Session

from model.tables import Account, Contact, Opportunity, UsageDaily

if TYPE_CHECKING:
    from scoring.signals import AccountSignals

RECENT_DAYS = 28
BASELINE_DAYS = 90
MIN_BASELINE_DAYS = 14
SUPPORT_DAYS = 90
EXPANSION_DAYS = 365
NEW_CUSTOMER_DAYS = 120
PRE_DATA_GRACE_DAYS = 30  # usage data starting later than this after signing: a late feed
EXPANSION_TYPES = frozenset({"Expansion", "Upsell", "Add-On", "Upgrade", "Cross-Sell"})
CONTRACTION_TYPES = frozenset({"Contraction", "Downgrade", "Downsell"})
Signals = dict[int, "AccountSignals"]


def end_of(as_of: date) -> datetime:
    """The first instant after `as_of` (UTC): datetimes strictly before it were known that day."""
    return datetime.combine(as_of + timedelta(days=1), time(), tzinfo=UTC)


def for_accounts(column: Any, ids: Sequence[int] | None) -> ColumnElement[bool]:
    """Rows of the given accounts, or of every linked account when `ids` is None."""
    return column.is_not(None) if ids is None else column.in_(ids)


def accounts(session: Session, as_of: date, ids: Sequence[int] | None) -> Sequence[Row[Any]]:
    stmt = select(
        Account.id, Account.segment, Account.tier, Account.lifecycle_stage, Account.arr,
        Account.renewal_date, Account.customer_since, Account.parent_id, Account.attributes,
    ).where(
        Account.is_deleted.is_(False),
        or_(Account.customer_since.is_(None), Account.customer_since <= as_of),
    )  # fmt: skip
    if ids is not None:
        stmt = stmt.where(Account.id.in_(ids))
    return session.execute(stmt.order_by(Account.id)).all()


def usage_through(as_of: date, today: date | None = None) -> date:
    """The last *complete* usage day for scoring `as_of`: the day itself once it is over, else
    the day before. The usage feed's row for the current day is partial (refreshed through the
    day), and counting it would move every score a little with each hourly sync; the windows
    end on the last full day instead, so a day's score only moves when a day closes."""
    today = today or datetime.now(UTC).date()
    return min(as_of, today - timedelta(days=1))


def usage_feed_last(session: Session, as_of: date) -> date | None:
    """The usage feed's newest day up to `as_of` (one scan of the table: callers share it)."""
    return session.scalar(select(func.max(UsageDaily.day)).where(UsageDaily.day <= as_of))


def add_usage(
    session: Session,
    as_of: date,
    ids: Sequence[int] | None,
    out: Signals,
    feed_last: date | None = None,
) -> None:
    """Usage over the last 28 complete days against the 90 days before; days without rows count
    as zero. The windows end on `usage_through(as_of)`: today's partial row is left out.

    `feed_last` (the feed's newest day, `usage_feed_last`) is looked up when not given."""
    through = usage_through(as_of)
    history = session.execute(
        select(
            UsageDaily.account_id, func.min(UsageDaily.day), func.max(UsageDaily.logins),
            func.max(UsageDaily.features_used),
            func.min(case((and_(UsageDaily.seats_purchased > 0, UsageDaily.active_users * 4 >= UsageDaily.seats_purchased), UsageDaily.day))),
            func.min(case((and_(UsageDaily.seats_purchased > 0, UsageDaily.active_users * 2 >= UsageDaily.seats_purchased), UsageDaily.day))),
        ).where(for_accounts(UsageDaily.account_id, ids), UsageDaily.day <= through).group_by(UsageDaily.account_id)
    ).all()  # fmt: skip
    if not history:
        return
    if feed_last is None:
        feed_last = usage_feed_last(session, as_of)
    feed_age = 0.0 if feed_last is None else float((as_of - feed_last).days)
    r0 = through - timedelta(days=RECENT_DAYS - 1)
    b0 = r0 - timedelta(days=BASELINE_DAYS)
    d = select(
        UsageDaily.account_id.label("aid"),
        UsageDaily.day.label("day"),
        func.sum(UsageDaily.active_users).label("au"),
        func.sum(UsageDaily.logins).label("lg"),
        func.max(UsageDaily.features_used).label("fu"),
        func.sum(UsageDaily.seats_purchased).label("sp"),
    ).where(
        for_accounts(UsageDaily.account_id, ids), UsageDaily.day >= b0, UsageDaily.day <= through
    )
    per_day = d.group_by(UsageDaily.account_id, UsageDaily.day).subquery()  # fmt: skip
    recent = per_day.c.day >= r0
    windows = {
        row[0]: tuple(None if v is None else float(v) for v in row[1:])  # PG sums are Decimal
        for row in session.execute(
            select(
                per_day.c.aid, func.sum(case((recent, per_day.c.au), else_=0)),
                func.max(case((recent, per_day.c.au))), func.sum(case((recent, per_day.c.lg), else_=0)),
                func.max(case((recent, per_day.c.fu))), func.max(case((recent, per_day.c.sp))),
                func.sum(case((~recent, per_day.c.au), else_=0)), func.max(per_day.c.sp),
            ).group_by(per_day.c.aid)
        )
    }  # fmt: skip
    for aid, first_day, max_logins, max_features, quarter_day, half_day in history:
        s = out.get(aid)
        if s is None:
            continue
        s.ages["usage"] = feed_age
        au, peak, logins, features, seats_recent, base_sum, seats_any = windows.get(aid) or (0,) * 7
        seats = seats_recent or seats_any
        s.seats = float(seats) if seats else None
        span = min(RECENT_DAYS, (through - first_day).days + 1)
        avg_au = (au or 0) / span
        s.active_users_per_seat = avg_au / seats if seats else None
        s.dau_mau = avg_au / peak if peak else 0.0
        s.logins_per_user = (logins or 0) / au if au else 0.0
        s.feature_breadth = float(features or 0)
        base_span = (r0 - max(b0, first_day)).days
        if base_span >= MIN_BASELINE_DAYS and base_sum:
            s.usage_change_90d = avg_au / (base_sum / base_span) - 1.0
        _onboarding(
            s, first_day, [bool(max_logins), (max_features or 0) >= 3], quarter_day, half_day
        )


def _onboarding(
    s: AccountSignals, first_day: date, reached: list[bool], quarter_day: Any, half_day: Any
) -> None:
    """Time to first value (a quarter of seats active on one day; still counting if not yet) and
    milestones reached (first login, three features, a quarter and half of the seats active).

    Counted from the first usage data (go-live), not from customer-since: older cohorts' usage
    feed starts months after they signed. Value already reached on the first data day of an
    account that was a customer well before is unknown (reached before the data began): None."""
    since = s.as_of - timedelta(days=s.days_since_customer) if s.days_since_customer else None
    before_data = since is not None and (first_day - since).days > PRE_DATA_GRACE_DAYS
    if quarter_day is not None and quarter_day <= first_day and before_data:
        s.time_to_first_value_days = None
    else:
        end = quarter_day if quarter_day is not None else s.as_of
        s.time_to_first_value_days = float(max(0, (end - first_day).days))
    reached = [*reached, quarter_day is not None, half_day is not None]
    s.onboarding_milestones = sum(reached) / len(reached)


def add_contacts(session: Session, as_of: date, ids: Sequence[int] | None, out: Signals) -> None:
    """Live champions, and whether one left (deleted) or a new one appeared within 90 days.

    The model keeps only today's champion flag: a non-champion contact modified after `as_of`
    may have been a champion then, so with no known champion the count is unknown (None),
    never a leaked zero.
    """
    end = end_of(as_of)
    if session.scalar(select(Contact.id).limit(1)) is None:
        return
    w90 = end - timedelta(days=90)
    champion = Contact.is_champion.is_(True)
    alive = and_(champion, or_(Contact.is_deleted.is_(False), Contact.source_modstamp >= end))
    unknown = and_(Contact.is_champion.is_(False), Contact.source_modstamp >= end)
    left = and_(
        champion,
        Contact.is_deleted.is_(True),
        Contact.source_modstamp >= w90,
        Contact.source_modstamp < end,
    )
    joined = and_(champion, Contact.source_created_at >= w90, Contact.source_created_at < end)
    rows = session.execute(
        select(
            Contact.account_id, func.count(case((alive, 1))), func.count(case((left, 1))),
            func.count(case((joined, 1))), func.count(case((unknown, 1))),
        ).where(
            for_accounts(Contact.account_id, ids),
            or_(Contact.source_created_at.is_(None), Contact.source_created_at < end),
        ).group_by(Contact.account_id)
    ).all()  # fmt: skip
    found = {aid: counts for aid, *counts in rows}
    for aid, s in out.items():
        n_alive, n_left, n_new, n_unknown = found.get(aid, (0, 0, 0, 0))
        settled = s.days_since_customer is None or s.days_since_customer >= NEW_CUSTOMER_DAYS
        s.champions = float(n_alive) if n_alive or not n_unknown else None
        s.champion_change_90d = 1.0 if n_left or (n_new and settled) else 0.0


def add_opportunities(
    session: Session, as_of: date, ids: Sequence[int] | None, out: Signals
) -> set[int]:
    """Days to the next renewal, ARR change between renewals, net expansion; returns churned ids."""
    rows = session.execute(
        select(
            Opportunity.account_id, Opportunity.type, Opportunity.close_date, Opportunity.amount,
            Opportunity.is_closed, Opportunity.is_won,
        ).where(for_accounts(Opportunity.account_id, ids), Opportunity.is_deleted.is_(False),
                Opportunity.close_date.is_not(None))
        # the id breaks close-date ties (co-termed renewals closing the same day): without it
        # the last two won renewals, and so `arr_change_pct`, depended on the query plan, and
        # an incremental run (by account id) and a full one (a scan) could pick different ones
        .order_by(Opportunity.account_id, Opportunity.close_date, Opportunity.id)
    ).all()  # fmt: skip
    if not rows:
        return set()
    by_account: dict[int | None, list[Any]] = defaultdict(list)
    for r in rows:
        by_account[r.account_id].append(r)
    churned: set[int] = set()
    for aid, s in out.items():
        opps = by_account.get(aid, [])
        renewals = [o for o in opps if o.type == "Renewal"]
        upcoming = [o.close_date for o in renewals if o.close_date > as_of]
        if upcoming:
            s.days_to_renewal = float((min(upcoming) - as_of).days)
        closed = [o for o in renewals if o.is_closed and o.close_date <= as_of]
        if closed and not closed[-1].is_won:
            churned.add(aid)
        won = [o.amount for o in closed if o.is_won and o.amount]
        if len(won) >= 2:
            s.arr_change_pct = won[-1] / won[-2] - 1.0
        since = as_of - timedelta(days=EXPANSION_DAYS)
        net = sum(
            (o.amount or 0.0) * (1 if o.type in EXPANSION_TYPES else -1)
            for o in opps
            if o.is_closed and o.is_won and since < o.close_date <= as_of
            and (o.type in EXPANSION_TYPES or o.type in CONTRACTION_TYPES)
        )  # fmt: skip
        # the latest contract known on as_of: current ARR is zeroed once an account churns,
        # so it would tell a replay which accounts are going to be lost
        booked = [o.amount for o in opps if o.is_closed and o.is_won and o.amount
                  and o.close_date <= as_of
                  and o.type not in EXPANSION_TYPES | CONTRACTION_TYPES]  # fmt: skip
        base = booked[-1] if booked else s.arr
        if not s.arr and booked:  # a replay before a later loss: ARR was the contract's then
            s.arr = booked[-1]
        if base:
            s.expansion_pct = net / base
    return churned
