"""Seat use a quarter ago, from the account's own stored snapshots: the risk model's lag input.

The renewal-risk model sees each snapshot's signals, whose usage windows reach back 28 days
(and 118 for `usage_change_90d`, a change against the *average* of the 90 days before, which
a slow decline has already pulled down). A quarter-long slide in seat use is clearer against
where the account stood then: `seat_use_change_13w` is today's `active_users_per_seat` minus
the one stored in the account's last snapshot taken 84 to 98 days before (None when there is
none or either value is missing). Measured on the tuning seeds 1-4, adding it raised the
fitted risk's judged AUC from 0.841 to 0.852 (3 of 4 seeds up).

One definition for both sides: `lag_value` picks the value from an account's snapshot list
(training reads every snapshot anyway) and `lagged_seat_use` reads it for the accounts being
scored, one row per account, the newest in the window.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from model.tables import HealthSnapshot

SIGNAL = "active_users_per_seat"
FEATURE = "seat_use_change_13w"
LAG_DAYS = (84, 98)  # the snapshot 12 to 14 weeks back (weekly history: one falls in it)
CHUNK = 5000


def lag_value(history: Sequence[tuple[date, float | None]], as_of: date) -> float | None:
    """The value of the newest (day, value) in `history` 84..98 days before `as_of`."""
    lo, hi = as_of - timedelta(days=LAG_DAYS[1]), as_of - timedelta(days=LAG_DAYS[0])
    found = [value for day, value in history if lo <= day <= hi]
    return found[-1] if found else None


def change(signals: Mapping[str, Any], then: float | None) -> float | None:
    """Today's seat use minus a quarter ago's, or None without both."""
    now = signals.get(SIGNAL)
    if then is None or not isinstance(now, int | float) or isinstance(now, bool):
        return None
    return round(float(now) - then, 4)


def stored_value(signals: Mapping[str, Any] | None) -> float | None:
    value = (signals or {}).get(SIGNAL)
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def lagged_seat_use(session: Session, as_of: date, ids: Sequence[int] | None) -> dict[int, float]:
    """Each account's seat use in its newest snapshot 84..98 days before `as_of` (where that
    snapshot has a value): the newest day per account in SQL, then only those rows' signals."""
    lo, hi = as_of - timedelta(days=LAG_DAYS[1]), as_of - timedelta(days=LAG_DAYS[0])
    out: dict[int, float] = {}
    batches = (
        [None] if ids is None else [list(ids[i : i + CHUNK]) for i in range(0, len(ids), CHUNK)]
    )
    for chunk in batches:
        newest = select(HealthSnapshot.account_id, func.max(HealthSnapshot.as_of).label("day"))
        newest = newest.where(HealthSnapshot.as_of >= lo, HealthSnapshot.as_of <= hi)
        if chunk is not None:
            newest = newest.where(HealthSnapshot.account_id.in_(chunk))
        sub = newest.group_by(HealthSnapshot.account_id).subquery()
        rows = session.execute(
            select(HealthSnapshot.account_id, HealthSnapshot.signals).join(
                sub,
                (sub.c.account_id == HealthSnapshot.account_id)
                & (sub.c.day == HealthSnapshot.as_of),
            )
        )
        for aid, signals in rows:
            value = stored_value(signals)
            if value is not None:
                out[aid] = value
    return out
