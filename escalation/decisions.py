"""What the rules decide: one `Decision` per account, rule and reason, keyed for dedup."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict

from escalation.config import Severity

_UNSAFE = re.compile(r"[^A-Za-z0-9_.\-]+")


class SeverityRow(BaseModel):
    """One line of the severity table shown on an escalation."""

    factor: str
    value: str
    points: int
    rule: str


class SeverityAssessment(BaseModel):
    severity: Severity
    points: int
    rows: list[SeverityRow]
    reasons: list[str]


class AccountSummary(BaseModel):
    """The account fields an action needs (names, owner, money)."""

    account_id: int
    name: str
    crm_id: str | None = None
    owner_crm_id: str | None = None
    owner_name: str | None = None
    tier: str | None = None
    arr: float | None = None
    renewal_date: date | None = None


class Decision(BaseModel):
    """A rule fired for an account; `dedup_key` is account:rule:reason."""

    model_config = ConfigDict(frozen=True)

    account: AccountSummary
    rule: str
    reason: str
    title: str
    severity: Severity
    assessment: SeverityAssessment
    evidence: dict[str, Any]
    ticket_ids: list[int] = []

    @property
    def account_id(self) -> int:
        return self.account.account_id

    @property
    def dedup_key(self) -> str:
        return dedup_key(self.account.account_id, self.rule, self.reason)


def dedup_key(account_id: int, rule: str, reason: str) -> str:
    """Stable key (fits the 255-char column) from account id, rule and a slug of the reason."""
    return f"{account_id}:{rule}:{_UNSAFE.sub('_', reason)[:160]}"
