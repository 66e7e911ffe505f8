"""Small factories for escalation tests: model rows with sensible defaults."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from escalation.config import EscalationConfig
from escalation.facts import gather_facts
from escalation.rules import evaluate
from model.tables import Account, Contact, HealthSnapshot, Opportunity, Ticket

AS_OF = date(2026, 6, 30)
NOW = datetime(2026, 6, 30, 23, 0, tzinfo=UTC)
_ids = itertools.count(1000)


def at(days_ago: float, base: datetime = NOW) -> datetime:
    return base - timedelta(days=days_ago)


def account(session: Session, **kw: Any) -> Account:
    n = next(_ids)
    values: dict[str, Any] = {
        "crm_source": "salesforce",
        "crm_id": f"001{n:015d}",
        "name": f"Acme {n}",
        "tier": "standard",
        "segment": "mid-market",
        "arr": 50_000.0,
        "owner_crm_id": f"005{n:015d}",
        "owner_name": "Olivia Owner",
    }
    values.update(kw)
    row = Account(**values)
    session.add(row)
    session.flush()
    return row


def snapshot(
    session: Session, acc: Account, days_ago: int, band: str, score: float, **kw: Any
) -> HealthSnapshot:
    row = HealthSnapshot(
        account_id=acc.id, as_of=AS_OF - timedelta(days=days_ago), band=band, score=score, **kw
    )
    session.add(row)
    session.flush()
    return row


def ticket(session: Session, acc: Account, subject: str, days_ago: float = 1, **kw: Any) -> Ticket:
    created = at(days_ago)
    values: dict[str, Any] = {
        "source": "zendesk",
        "helpdesk_id": next(_ids),
        "account_id": acc.id,
        "subject": subject,
        "status": "open",
        "priority": "normal",
        "tags": [],
        "created_at": created,
        "updated_at": created,
    }
    values.update(kw)
    row = Ticket(**values)
    session.add(row)
    session.flush()
    return row


def contact(session: Session, acc: Account, **kw: Any) -> Contact:
    n = next(_ids)
    values: dict[str, Any] = {
        "source": "salesforce",
        "crm_id": f"003{n:015d}",
        "account_id": acc.id,
        "name": f"Pat {n}",
    }
    values.update(kw)
    row = Contact(**values)
    session.add(row)
    session.flush()
    return row


def renewal(session: Session, acc: Account, in_days: int, amount: float) -> Opportunity:
    n = next(_ids)
    row = Opportunity(
        source="salesforce",
        crm_id=f"006{n:015d}",
        account_id=acc.id,
        name=f"{acc.name} renewal",
        type="Renewal",
        stage="Negotiation",
        amount=amount,
        close_date=AS_OF + timedelta(days=in_days),
    )
    session.add(row)
    session.flush()
    return row


def fired(session: Session, config: EscalationConfig, acc: Account) -> dict[str, Any]:
    """The decisions the rules make for one account as of AS_OF, by reason."""
    facts = gather_facts(session, AS_OF, [acc.id], config)[acc.id]
    return {d.reason: d for d in evaluate(facts, config)}


def with_rule(config: EscalationConfig, name: str, **changes: object) -> EscalationConfig:
    """`config` with one rule's settings changed."""
    rules = dict(config.rules)
    rules[name] = rules[name].model_copy(update=changes)
    return config.model_copy(update={"rules": rules})
