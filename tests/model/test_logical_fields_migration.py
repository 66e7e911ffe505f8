"""Migration 0006 renames stored written-back fields to logical names, and back, losslessly
(from 0005: the outbox kinds are the neutral ones by then)."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from alembic import command

from model.db import alembic_config, make_engine, upgrade

WHEN = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
STATE = sa.table(
    "written_state",
    *(sa.column(c, sa.String) for c in ("system", "target_kind", "target_id", "field", "value")),
    sa.column("written_at", sa.DateTime(timezone=True)),
)
OUTBOX = sa.table(
    "outbox",
    *(sa.column(c, sa.String) for c in ("key", "system", "kind", "target_id", "status")),
    sa.column("payload", sa.JSON),
    sa.column("result", sa.JSON),
    sa.column("attempts", sa.Integer),
    sa.column("created_at", sa.DateTime(timezone=True)),
)
WRITTEN = [
    ("salesforce", "account", "001A", "Health_Score__c", "72"),
    ("salesforce", "account", "001A", "Health_Status__c", '"Green"'),
    ("salesforce", "account", "001A", "Renewal_Risk_Drivers__c", '"renewal in 40 days"'),
    ("zendesk", "organization", "500", "health_status", '"green"'),
    ("zendesk", "organization", "500", "health_score", "72"),
    ("zendesk", "ticket", "9001", "tag:health_green", "true"),
    ("salesforce", "account", "001A", "Custom_Field__c", '"kept"'),
]
PAYLOADS = {
    "crm_account_fields": {"fields": {"Health_Score__c": 71, "Renewal_Risk__c": 31.5}},
    "helpdesk_org_fields": {"fields": {"health_status": "red", "renewal_risk": 62}},
    "helpdesk_ticket_tags": {"add": ["health_red"], "remove": []},
}


def _state(engine: sa.Engine) -> set[tuple[str, ...]]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(STATE.c.system, STATE.c.target_kind, STATE.c.target_id, STATE.c.field)
        )
        return {tuple(r) for r in rows}


def _payloads(engine: sa.Engine) -> dict[str, dict]:
    with engine.connect() as conn:
        return dict(conn.execute(sa.select(OUTBOX.c.kind, OUTBOX.c.payload)).all())


def test_written_fields_are_renamed_to_logical_names_and_back(any_db_url) -> None:
    upgrade(any_db_url, "0005")
    engine = make_engine(any_db_url)
    with engine.begin() as conn:
        conn.execute(
            sa.insert(STATE),
            [
                dict(zip(("system", "target_kind", "target_id", "field", "value"), w, strict=True))
                | {"written_at": WHEN}
                for w in WRITTEN
            ],
        )
        conn.execute(
            sa.insert(OUTBOX),
            [
                {
                    "key": k,
                    "system": "x",
                    "kind": k,
                    "target_id": "1",
                    "status": "pending",
                    "payload": p,
                    "result": {},
                    "attempts": 0,
                    "created_at": WHEN,
                }
                for k, p in PAYLOADS.items()
            ],
        )
    before_state, before_payloads = _state(engine), _payloads(engine)

    upgrade(any_db_url)
    fields = {(s, k, f) for s, k, _, f in _state(engine)}
    assert ("salesforce", "account", "health_score") in fields
    assert ("salesforce", "account", "health_band") in fields
    assert ("salesforce", "account", "renewal_risk_drivers") in fields
    assert ("zendesk", "organization", "health_band") in fields
    assert ("salesforce", "account", "Custom_Field__c") in fields, "an unmapped key stays"
    assert not {f for _, _, f in fields} & {"Health_Score__c", "Health_Status__c", "health_status"}
    payloads = _payloads(engine)
    assert payloads["crm_account_fields"] == {"fields": {"health_score": 71, "renewal_risk": 31.5}}
    assert payloads["helpdesk_org_fields"] == {"fields": {"health_band": "red", "renewal_risk": 62}}
    assert payloads["helpdesk_ticket_tags"] == PAYLOADS["helpdesk_ticket_tags"]

    command.downgrade(alembic_config(any_db_url), "0005")
    assert _state(engine) == before_state and _payloads(engine) == before_payloads
    engine.dispose()
