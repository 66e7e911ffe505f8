"""Small builders of model rows for sync tests."""

from __future__ import annotations

import datetime as dt
from typing import Any

from connectors import salesforce_writer, zendesk_writer
from connectors.salesforce_fields import SalesforceFieldMap
from model.tables import Account, ExternalIdentity, HealthSnapshot, Ticket
from sync.routes import field_targets
from sync.writeback import FieldTarget

NOW = dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC)


def write_targets() -> dict[str, tuple[FieldTarget, ...]]:
    """The shipped connectors' field write kinds, as a production run plans with them."""
    sf = salesforce_writer.write_kinds(SalesforceFieldMap().write_fields())
    zd = zendesk_writer.write_kinds(zendesk_writer.load_org_fields())
    return field_targets({"salesforce": sf, "zendesk": zd})


TARGETS = write_targets()


def account(n: int, **kw: Any) -> Account:
    return Account(crm_source="salesforce", crm_id=f"001{n:015d}", name=f"Account {n}", **kw)


def snapshot(account_id: int, band: str = "red", score: float = 40.0, **kw: Any) -> HealthSnapshot:
    defaults: dict[str, Any] = {
        "as_of": NOW.date(),
        "trend_28d": -5.0,
        "reasons": [{"text": "active users down 42% vs 90-day baseline"}],
        "renewal_risk": 0.62,
        "risk_level": "high",
        "risk_drivers": [{"text": "renewal in 40 days"}],
    }
    return HealthSnapshot(account_id=account_id, band=band, score=score, **{**defaults, **kw})


def linked_org(org_id: int, account_id: int) -> ExternalIdentity:
    return ExternalIdentity(
        source="zendesk",
        kind="organization",
        external_id=str(org_id),
        account_id=account_id,
        status="linked",
        method="external_id",
    )


def ticket(
    helpdesk_id: int, account_id: int | None, status: str = "open", org: int | None = None
) -> Ticket:
    return Ticket(
        source="zendesk",
        helpdesk_id=helpdesk_id,
        helpdesk_org_id=org,
        account_id=account_id,
        status=status,
        created_at=NOW,
        updated_at=NOW,
    )
