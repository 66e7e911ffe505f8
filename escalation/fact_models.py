"""The facts the escalation rules see about one account on one day (plain pydantic models)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from pydantic import BaseModel

from escalation.book_norms import BookNorm
from escalation.clusters import IssueCluster, TicketFact
from escalation.decisions import AccountSummary


class SnapshotFact(BaseModel):
    as_of: date
    score: float | None = None
    band: str
    trend_28d: float | None = None
    sharp_drop: bool = False
    reasons: list[Any] = []
    contradictions: list[Any] = []
    risk_level: str | None = None
    risk_drivers: list[Any] = []


class ContactFact(BaseModel):
    crm_id: str
    name: str | None = None
    title: str | None = None
    is_executive: bool = False
    left_at: datetime | None = None


class AccountFacts(AccountSummary):
    """What the rules may know about one account on one day: its summary and the evidence."""

    segment: str | None = None
    renewal_amount: float | None = None
    as_of: date
    latest: SnapshotFact | None = None
    previous: SnapshotFact | None = None
    baseline_28d: SnapshotFact | None = None
    band_before: str | None = None
    open_tickets: list[TicketFact] = []
    clusters: list[IssueCluster] = []
    csat_recent_good: int = 0
    csat_recent_bad: int = 0
    csat_prior_good: int = 0
    csat_prior_bad: int = 0
    champions_left: list[ContactFact] = []
    executive_contacts: int = 0
    active_rules: list[str] = []
    book_norms: list[BookNorm] = []  # what the repeated-issue rule read of the book's mix

    @property
    def days_to_renewal(self) -> int | None:
        return None if self.renewal_date is None else (self.renewal_date - self.as_of).days

    @property
    def arr_at_stake(self) -> float:
        return max(self.arr or 0.0, self.renewal_amount or 0.0)

    @property
    def open_urgent(self) -> list[TicketFact]:
        return [t for t in self.open_tickets if t.priority == "urgent"]


FactsById = dict[int, AccountFacts]


def end_of_day(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), time.min, tzinfo=UTC)
