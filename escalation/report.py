"""The quarterly review of escalation patterns: per customer, rule and severity, repeats, timings.

Counts episodes (an escalation reopened after its cooldown counts again) opened in the
window; timings are hours from opening to acknowledgement and to resolution.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from model.tables import Account, Escalation, RcaReview


class Episode(BaseModel):
    escalation_id: int
    account_id: int
    account: str
    rule: str
    severity: str
    state: str
    episode: int
    opened_at: datetime
    acknowledged_at: datetime | None = None
    resolved_at: datetime | None = None
    linked_tickets: int = 0
    title: str = ""

    @property
    def ack_hours(self) -> float | None:
        return _hours(self.opened_at, self.acknowledged_at)

    @property
    def resolve_hours(self) -> float | None:
        return _hours(self.opened_at, self.resolved_at)


class GroupStats(BaseModel):
    """One row of a per-customer / per-rule / per-severity table."""

    name: str
    escalations: int
    open: int
    sev1: int = 0
    sev2: int = 0
    sev3: int = 0
    sev4: int = 0
    median_ack_hours: float | None = None
    median_resolve_hours: float | None = None
    p90_resolve_hours: float | None = None


class RepeatIssue(BaseModel):
    account: str
    title: str
    state: str
    linked_tickets: int
    episodes: int


class ReviewDue(BaseModel):
    account: str
    title: str
    severity: str
    due_at: datetime
    overdue: bool


class RcaCompliance(BaseModel):
    """Root-cause analyses owed for engineering tickets solved in the window: how many were
    done by their due date (solve + the configured hours)."""

    owed: int = 0
    done: int = 0
    done_on_time: int = 0
    overdue: int = 0  # not done and past due
    compliance: float | None = None  # done on time / (done + past due); None when none is due yet


def rca_compliance(session: Session, now: datetime, since: datetime | None) -> RcaCompliance:
    query = select(RcaReview)
    if since is not None:
        query = query.where(RcaReview.solved_at >= since)
    out = RcaCompliance()
    for r in session.scalars(query):
        out.owed += 1
        if r.done_at is not None:
            out.done += 1
            out.done_on_time += r.done_at <= r.due_at
        elif r.due_at < now:
            out.overdue += 1
    settled = out.done + out.overdue
    out.compliance = round(out.done_on_time / settled, 4) if settled else None
    return out


class EscalationReport(BaseModel):
    since: datetime | None
    until: datetime
    total: GroupStats
    per_customer: list[GroupStats]
    per_rule: list[GroupStats]
    per_severity: list[GroupStats]
    repeat_issues: list[RepeatIssue]
    reviews: list[ReviewDue]
    rca: RcaCompliance = RcaCompliance()


def _hours(start: datetime, end: datetime | None) -> float | None:
    return None if end is None else round((end - start).total_seconds() / 3600, 1)


def _dt(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else None


def episodes_of(esc: Escalation, account: str) -> list[Episode]:
    """One entry per episode recorded in details; the row's columns describe the current one."""
    recorded = (esc.details or {}).get("episodes") or [{"episode": 1}]
    result = []
    for i, ep in enumerate(recorded):
        current = i == len(recorded) - 1
        opened = esc.opened_at if current else _dt(ep.get("opened_at")) or esc.opened_at
        result.append(
            Episode(
                escalation_id=esc.id,
                account_id=esc.account_id,
                account=account,
                rule=esc.rule,
                severity=esc.severity if current else ep.get("severity", esc.severity),
                state=esc.state if current else "resolved",
                episode=int(ep.get("episode", i + 1)),
                opened_at=opened,
                acknowledged_at=esc.acknowledged_at if current else _dt(ep.get("acknowledged_at")),
                resolved_at=esc.resolved_at if current else _dt(ep.get("resolved_at")),
                linked_tickets=len((esc.details or {}).get("ticket_ids", [])),
                title=esc.title,
            )
        )
    return result


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 1) if values else None


def _p90(values: list[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))], 1)


def group_stats(name: str, eps: Iterable[Episode]) -> GroupStats:
    eps = list(eps)
    by_sev: dict[str, int] = defaultdict(int)
    for e in eps:
        by_sev[e.severity] += 1
    ack = [e.ack_hours for e in eps if e.ack_hours is not None]
    res = [e.resolve_hours for e in eps if e.resolve_hours is not None]
    return GroupStats(
        name=name,
        escalations=len(eps),
        open=sum(1 for e in eps if e.state != "resolved"),
        **{s: by_sev.get(s, 0) for s in ("sev1", "sev2", "sev3", "sev4")},
        median_ack_hours=_median(ack),
        median_resolve_hours=_median(res),
        p90_resolve_hours=_p90(res),
    )


def _grouped(eps: list[Episode], key: str) -> list[GroupStats]:
    groups: dict[str, list[Episode]] = defaultdict(list)
    for e in eps:
        groups[str(getattr(e, key))].append(e)
    rows = [group_stats(name, members) for name, members in groups.items()]
    return sorted(rows, key=lambda r: (-r.escalations, r.name))


def build_report(
    session: Session, now: datetime, since: datetime | None = None, top: int = 20
) -> EscalationReport:
    """Aggregate every escalation episode opened in [since, now]."""
    rows = session.execute(
        select(Escalation, Account.name).join(Account, Account.id == Escalation.account_id)
    ).all()
    eps: list[Episode] = []
    repeats: list[RepeatIssue] = []
    reviews: list[ReviewDue] = []
    for esc, name in rows:
        mine = [e for e in episodes_of(esc, name) if since is None or e.opened_at >= since]
        eps += mine
        if mine and (esc.rule == "repeated_issue" or len(mine) > 1):
            repeats.append(
                RepeatIssue(
                    account=name,
                    title=esc.title,
                    state=esc.state,
                    linked_tickets=mine[-1].linked_tickets,
                    episodes=len(mine),
                )
            )
        for review in (esc.details or {}).get("reviews", []):
            due = _dt(review.get("due_at"))
            if due is not None and (since is None or due >= since):
                reviews.append(
                    ReviewDue(
                        account=name,
                        title=esc.title,
                        severity=review.get("severity", ""),
                        due_at=due,
                        overdue=due < now,
                    )
                )
    return EscalationReport(
        since=since,
        until=now,
        total=group_stats("all", eps),
        per_customer=_grouped(eps, "account")[:top],
        per_rule=_grouped(eps, "rule"),
        per_severity=sorted(_grouped(eps, "severity"), key=lambda r: r.name),
        repeat_issues=sorted(repeats, key=lambda r: (-r.episodes, -r.linked_tickets, r.account))[
            :top
        ],
        reviews=sorted(reviews, key=lambda r: r.due_at),
        rca=rca_compliance(session, now, since),
    )
