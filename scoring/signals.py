"""Per-account signals as of one day, computed from the model with SQL aggregates (no leakage).

Every query is bounded by `as_of` (end of that day, UTC): usage by `day`, tickets by
`created_at`/`solved_at`/`csat_at`, contacts by `source_created_at`/`source_modstamp`,
opportunities by `close_date`, escalations by `opened_at`/`resolved_at`. So replaying a past
day sees only what was known then. Facts that the model keeps only as current state are
handled explicitly: the crm's `lifecycle_stage` is ignored for replays older than
`CURRENT_STATE_DAYS` (profile rules decide instead), and a deleted contact counts as
deleted from its last modification stamp on.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from model.lifecycle import is_churned_stage
from scoring import queries, support_queries

log = logging.getLogger(__name__)

CURRENT_STATE_DAYS = 30
ID_CHUNK = 5000


@dataclass(slots=True, kw_only=True)
class AccountSignals:
    """What the model knew about one account on `as_of`; None means no data."""

    account_id: int
    as_of: date
    segment: str | None = None
    tier: str | None = None
    lifecycle_stage: str | None = None
    arr: float | None = None
    parent_id: int | None = None
    seats: float | None = None
    days_since_customer: float | None = None
    # usage (28-day window; baseline = the 90 days before it)
    active_users_per_seat: float | None = None
    dau_mau: float | None = None
    logins_per_user: float | None = None
    feature_breadth: float | None = None
    usage_change_90d: float | None = None
    # support (90-day window; CSAT over 180 days)
    tickets_per_seat_90d: float | None = None
    open_urgent_tickets: float | None = None
    open_escalations: float | None = None
    repeat_issue_tickets: float | None = None
    repeat_issue_tag: str | None = None
    first_reply_hours: float | None = None
    resolution_hours: float | None = None
    reopen_rate: float | None = None
    csat: float | None = None
    csat_responses: float | None = None
    # relationship
    nps: float | None = None
    champions: float | None = None
    champion_change_90d: float | None = None
    # commercial
    days_to_renewal: float | None = None
    arr_change_pct: float | None = None
    expansion_pct: float | None = None
    # onboarding
    time_to_first_value_days: float | None = None
    onboarding_milestones: float | None = None
    # how old each source's latest data is, in days (for staleness rules)
    ages: dict[str, float] = field(default_factory=dict)
    # segment percentiles of measures, attached by the service when a scorecard asks for them
    percentiles: dict[str, float] = field(default_factory=dict)

    def value(self, measure: str) -> float | None:
        v = getattr(self, measure)
        return None if v is None else float(v)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready view, without empty values (stored with the snapshot)."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            if v is None or v == {} or f.name in ("account_id", "as_of"):
                continue
            out[f.name] = round(v, 4) if isinstance(v, float) else v
        return out


_NON_MEASURES = {"account_id", "as_of", "segment", "tier", "lifecycle_stage", "parent_id"}
_NON_MEASURES |= {"repeat_issue_tag", "ages", "percentiles"}
MEASURE_NAMES: frozenset[str] = frozenset(
    f.name for f in dataclasses.fields(AccountSignals) if f.name not in _NON_MEASURES
)


def compute_signals(
    session: Session,
    as_of: date,
    account_ids: Sequence[int] | None = None,
    *,
    feed_last: date | None = None,
) -> dict[int, AccountSignals]:
    """Signals for every live account (or the given ones) that was a customer on `as_of`.

    `feed_last` is the usage feed's newest day (`queries.usage_feed_last`): a caller scoring
    a day in several batches looks it up once instead of once per batch."""
    if account_ids is None:
        return _compute(session, as_of, None, feed_last)
    ids = sorted(set(account_ids))
    out: dict[int, AccountSignals] = {}
    if feed_last is None and len(ids) > ID_CHUNK:
        feed_last = queries.usage_feed_last(session, as_of)
    for i in range(0, len(ids), ID_CHUNK):
        out.update(_compute(session, as_of, ids[i : i + ID_CHUNK], feed_last))
    return out


def _compute(
    session: Session, as_of: date, ids: list[int] | None, feed_last: date | None
) -> dict[int, AccountSignals]:
    current = (date.today() - as_of).days <= CURRENT_STATE_DAYS
    out: dict[int, AccountSignals] = {}
    for a in queries.accounts(session, as_of, ids):
        if current and is_churned_stage(a.lifecycle_stage):
            continue  # the crm says it left: churned (model.lifecycle), no health to score
        since = a.customer_since
        out[a.id] = AccountSignals(
            account_id=a.id,
            as_of=as_of,
            segment=a.segment,
            tier=a.tier,
            lifecycle_stage=a.lifecycle_stage if current else None,
            arr=a.arr,
            parent_id=a.parent_id,
            days_since_customer=None if since is None else float((as_of - since).days),
        )
        nps = _nps(a.attributes or {}, as_of)
        if nps is not None:
            out[a.id].nps, out[a.id].ages["nps"] = nps
        renewal = a.renewal_date
        if renewal is not None and renewal > as_of:
            out[a.id].days_to_renewal = float((renewal - as_of).days)
    if not out:
        return out
    queries.add_usage(session, as_of, ids, out, feed_last)
    support_queries.add_tickets(session, as_of, ids, out)
    support_queries.add_repeat_issues(session, as_of, ids, out)
    support_queries.add_escalations(session, as_of, ids, out)
    queries.add_contacts(session, as_of, ids, out)
    for churned in queries.add_opportunities(session, as_of, ids, out):
        del out[churned]  # a lost renewal before as_of: no longer a customer to score
    log.debug("signals for %s accounts as of %s", len(out), as_of)
    return out


def _nps(attributes: dict[str, Any], as_of: date) -> tuple[float, float] | None:
    """NPS if the account carries one (`attributes.nps` with `nps_at`), and only if known by then."""
    score, at = attributes.get("nps"), attributes.get("nps_at")
    if score is None or at is None:
        return None
    try:
        when = date.fromisoformat(str(at)[:10])
        value = float(score)
    except ValueError:
        return None
    if when > as_of:
        return None
    return value, float((as_of - when).days)
