"""CSM overrides in the audit: how often people overrule the score, which way, and who was right.

- **Weekly rates.** On each week's last snapshot day (the days `drift.weekly_days` picks): the
  accounts scored, those under an override, and the override's direction against the computed
  band: *lowered* (a worse band than computed: the CSM sees trouble the score misses),
  *raised* (a better band), or *same band* (only the score moved). Beside them, the overrides
  set, revoked and expired in the week.
- **Outcomes.** Every directional override whose account had a renewal decided within
  `horizon_days` after it was set is judged on that renewal: a lowered band and a lost renewal,
  or a raised band and a won one, means the CSM was right and the score was not. The lost rate
  by direction is set beside the lost rate of every renewal decided in the same period.

A rising override rate says people stopped trusting the score; overrides that keep turning out
right say the score misses something they see (the reasons they typed say what).
The direction is read from the override's first snapshot (band written against band computed),
so an override set and revoked within a day, never written into a snapshot, has none.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, func, select
from sqlalchemy.orm import Session

from model.tables import HealthSnapshot, Opportunity, ScoreOverride
from scoring.backtest import DECIDED_RENEWAL, renewal_outcomes
from scoring.drift import weekly_days

RANK = {"red": 0, "yellow": 1, "green": 2}
DIRECTIONS = ("lowered", "raised", "same band")


def _rank(column: Any) -> ColumnElement[int | None]:
    return case(*((column == band, r) for band, r in RANK.items()), else_=None)


def direction(band: str | None, computed: str | None) -> str | None:
    """lowered / raised / same band, or None when either band is not red, yellow or green."""
    if band not in RANK or computed not in RANK:
        return None
    if RANK[band] < RANK[computed]:
        return "lowered"
    return "raised" if RANK[band] > RANK[computed] else "same band"


def override_report(
    session: Session, *, now: datetime, weeks: int = 8, horizon_days: int = 180
) -> dict[str, Any]:
    """Weekly override rates over the newest `weeks` snapshot weeks, and every override judged
    on the first renewal decided within `horizon_days` after it was set; `now` is aware UTC."""
    days = weekly_days(session, weeks)
    overrides = session.execute(
        select(
            ScoreOverride.id, ScoreOverride.account_id, ScoreOverride.created_at,
            ScoreOverride.expires_at, ScoreOverride.revoked, ScoreOverride.updated_at,
        ).order_by(ScoreOverride.id)
    ).all()  # fmt: skip
    return {
        "weekly": _weekly(session, days, overrides, now),
        "overrides": len(overrides),
        "active_now": sum(1 for o in overrides if not o.revoked and o.created_at <= now < o.expires_at),
        "outcomes": _outcomes(session, overrides, now, horizon_days),
    }  # fmt: skip


def _weekly(
    session: Session, days: Sequence[date], overrides: Sequence[Any], now: datetime
) -> list[dict[str, Any]]:
    if not days:
        return []
    hs = HealthSnapshot
    overridden = hs.override_id.is_not(None)
    band, computed = _rank(hs.band), _rank(hs.computed_band)
    counts = {
        day: (n, over, lowered or 0, raised or 0)
        for day, n, over, lowered, raised in session.execute(
            select(
                hs.as_of, func.count(), func.count(hs.override_id),
                func.sum(case((and_(overridden, band < computed), 1), else_=0)),
                func.sum(case((and_(overridden, band > computed), 1), else_=0)),
            ).where(hs.as_of.in_(days)).group_by(hs.as_of)
        )
    }  # fmt: skip
    rows = []
    for day in days:
        n, over, lowered, raised = counts.get(day, (0, 0, 0, 0))
        start = datetime.combine(day - timedelta(days=day.weekday()), time(), UTC)
        end = min(start + timedelta(days=7), now)
        rows.append({
            "week_of": start.date().isoformat(),
            "day": day.isoformat(),
            "accounts": n,
            "overridden": over,
            "override_rate": round(over / n, 4) if n else None,
            "lowered": lowered,
            "raised": raised,
            "set": sum(1 for o in overrides if start <= o.created_at < end),
            "revoked": sum(1 for o in overrides if o.revoked and _within(o.updated_at, start, end)),
            "expired": sum(
                1 for o in overrides if not o.revoked and start <= o.expires_at < end
            ),
        })  # fmt: skip
    return rows


def _within(moment: datetime | None, start: datetime, end: datetime) -> bool:
    """Whether `moment` falls in [start, end); a revocation stored before `updated_at` was
    kept has none and is counted in no week."""
    return moment is not None and start <= moment < end


@dataclass(slots=True)
class _Tally:
    overrides: int = 0
    judged: int = 0
    lost: int = 0

    def as_dict(self) -> dict[str, Any]:
        rate = round(self.lost / self.judged, 4) if self.judged else None
        return {
            "overrides": self.overrides,
            "judged": self.judged,
            "lost": self.lost,
            "lost_rate": rate,
        }


def _outcomes(
    session: Session, overrides: Sequence[Any], now: datetime, horizon_days: int
) -> dict[str, Any]:
    if not overrides:
        return {"judged": 0}
    accounts = select(ScoreOverride.account_id).distinct()
    ways = _directions(session, accounts)
    decisions = renewal_outcomes(session, accounts)
    tallies = {d: _Tally() for d in (*DIRECTIONS, "unknown")}
    right = wrong = 0
    for o in overrides:
        way = ways.get(o.id) or "unknown"
        tally = tallies[way]
        tally.overrides += 1
        set_on = o.created_at.date()
        first = next(
            (lost for day, lost, _ in decisions.get(o.account_id, [])
             if set_on < day <= set_on + timedelta(days=horizon_days)),
            None,
        )  # fmt: skip
        if first is None:
            continue
        tally.judged += 1
        tally.lost += first
        if way in ("lowered", "raised"):
            if first == (way == "lowered"):
                right += 1
            else:
                wrong += 1
    since = min(o.created_at for o in overrides).date()
    directional = right + wrong
    return {
        "judged": sum(t.judged for t in tallies.values()),
        "by_direction": {d: t.as_dict() for d, t in tallies.items() if t.overrides},
        "csm_right": right,
        "score_right": wrong,
        "csm_right_share": round(right / directional, 4) if directional else None,
        "all_renewals": _renewals_since(session, since, now.date()),
        "horizon_days": horizon_days,
    }


def _directions(session: Session, accounts: Select[Any]) -> dict[int | None, str | None]:
    """Each override's direction, from the first snapshot that carried it; both reads go
    through the overridden accounts' (account, day) index, not the whole snapshot table."""
    hs = HealthSnapshot
    first = (
        select(hs.override_id, hs.account_id, func.min(hs.as_of).label("day"))
        .where(hs.override_id.is_not(None), hs.account_id.in_(accounts))
        .group_by(hs.override_id, hs.account_id)
        .subquery()
    )
    on = and_(
        hs.account_id == first.c.account_id,
        hs.as_of == first.c.day,
        hs.override_id == first.c.override_id,
    )
    rows = session.execute(select(hs.override_id, hs.band, hs.computed_band).join(first, on))
    return {oid: direction(band, computed) for oid, band, computed in rows}


def _renewals_since(session: Session, since: date, until: date) -> dict[str, Any]:
    """Every renewal decided since the first override: the rate overrides are compared with."""
    decided, lost = session.execute(
        select(func.count(), func.sum(case((Opportunity.is_won.is_(False), 1), else_=0))).where(
            *DECIDED_RENEWAL, Opportunity.close_date > since, Opportunity.close_date <= until
        )
    ).one()
    lost = lost or 0
    return {
        "since": since.isoformat(),
        "decided": decided,
        "lost": lost,
        "lost_rate": round(lost / decided, 4) if decided else None,
    }
