"""Small factories for model rows used by the scoring tests (SQLite, in memory)."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import create_engine
from sqlalchemy.orm import Session, sessionmaker

from model.tables import (
    Account,
    Base,
    Contact,
    Escalation,
    Opportunity,
    ScoreOverride,
    Ticket,
    UsageDaily,
)
from scoring.signals import AccountSignals

_seq = itertools.count(1)


def make_session() -> Session:
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    return sessionmaker(engine, expire_on_commit=False)()


def at(day: date, hour: int = 12) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=UTC)


def account(s: Session, **kw: Any) -> Account:
    n = next(_seq)
    defaults: dict[str, Any] = {
        "name": f"Account {n}",
        "crm_source": "salesforce",
        "crm_id": f"001{n:015d}",
        "segment": "Mid-Market",
        "tier": "Tier 2",
        "arr": 50_000.0,
        "customer_since": date(2024, 1, 1),
    }
    a = Account(**{**defaults, **kw})
    s.add(a)
    s.flush()
    return a


def usage(
    s: Session,
    acct: Account,
    start: date,
    days: int,
    active: int | list[int] = 20,
    seats: int = 40,
    logins: int | None = None,
    features: int = 5,
    workspace: str | None = None,
) -> None:
    """One usage row per day from `start`; `active` may be a per-day list."""
    ws = workspace or f"ws-{acct.id}"
    for i in range(days):
        au = active[i] if isinstance(active, list) else active
        s.add(
            UsageDaily(
                workspace_id=ws,
                account_id=acct.id,
                day=start + timedelta(days=i),
                active_users=au,
                logins=au * 2 if logins is None else logins,
                feature_events=au * 10,
                features_used=features,
                seats_used=au,
                seats_purchased=seats,
            )
        )
    s.flush()


def ticket(s: Session, acct: Account, created: datetime, **kw: Any) -> Ticket:
    n = next(_seq)
    defaults: dict[str, Any] = {
        "source": "zendesk",
        "helpdesk_id": n,
        "account_id": acct.id,
        "status": "open",
        "priority": "normal",
        "tags": [],
        "created_at": created,
        "updated_at": created,
    }
    t = Ticket(**{**defaults, **kw})
    s.add(t)
    s.flush()
    return t


def contact(s: Session, acct: Account, **kw: Any) -> Contact:
    n = next(_seq)
    c = Contact(**{"source": "salesforce", "crm_id": f"003{n:015d}", "account_id": acct.id, **kw})
    s.add(c)
    s.flush()
    return c


def opportunity(s: Session, acct: Account, close: date, **kw: Any) -> Opportunity:
    n = next(_seq)
    defaults: dict[str, Any] = {
        "source": "salesforce",
        "crm_id": f"006{n:015d}",
        "account_id": acct.id,
        "type": "Renewal",
    }
    o = Opportunity(**{**defaults, "close_date": close, **kw})
    s.add(o)
    s.flush()
    return o


def escalation(s: Session, acct: Account, opened: datetime, **kw: Any) -> Escalation:
    n = next(_seq)
    e = Escalation(
        **{
            "dedup_key": f"k{n}",
            "account_id": acct.id,
            "rule": "r",
            "severity": "high",
            "title": "t",
            "opened_at": opened,
            **kw,
        }
    )
    s.add(e)
    s.flush()
    return e


def override(s: Session, acct: Account, expires: datetime, **kw: Any) -> ScoreOverride:
    o = ScoreOverride(account_id=acct.id, reason="CSM knows better", expires_at=expires, **kw)
    s.add(o)
    s.flush()
    return o


def healthy_signals(**kw: Any) -> AccountSignals:
    """Signals of a thriving adoption-stage account; override fields to make it ill."""
    base: dict[str, Any] = {
        "account_id": 1,
        "as_of": date(2026, 6, 1),
        "segment": "Mid-Market",
        "days_since_customer": 400.0,
        "days_to_renewal": 300.0,
        "active_users_per_seat": 0.6,
        "dau_mau": 0.8,
        "logins_per_user": 2.5,
        "feature_breadth": 7.0,
        "usage_change_90d": 0.05,
        "tickets_per_seat_90d": 0.05,
        "open_urgent_tickets": 0.0,
        "open_escalations": 0.0,
        "repeat_issue_tickets": 1.0,
        "first_reply_hours": 2.0,
        "resolution_hours": 12.0,
        "reopen_rate": 0.0,
        "csat": 0.95,
        "champions": 2.0,
        "champion_change_90d": 0.0,
        "arr_change_pct": 0.1,
        "expansion_pct": 0.2,
        "ages": {"usage": 1.0, "csat": 10.0},
    }
    return AccountSignals(**{**base, **kw})
