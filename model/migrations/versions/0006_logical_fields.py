"""written-back fields are stored by logical name

The write-back planner now plans logical fields (health_score, health_band, renewal_risk, ...)
and each connector maps them to its API names, so what pulsehub last wrote (`written_state`)
and the field writes in the outbox are keyed by logical name. This renames the stored keys
written under the shipped field maps; a key outside them is left as it is.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 08:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

# (written_state system, target kind, outbox kind) -> {API name: logical name}
RENAMES: dict[tuple[str, str, str], dict[str, str]] = {
    ("salesforce", "account", "crm_account_fields"): {
        "Health_Score__c": "health_score",
        "Health_Status__c": "health_band",
        "Health_Trend__c": "health_trend",
        "Health_Reasons__c": "health_reasons",
        "Renewal_Risk__c": "renewal_risk",
        "Renewal_Risk_Level__c": "renewal_risk_level",
        "Renewal_Risk_Drivers__c": "renewal_risk_drivers",
        "Pulsehub_Synced_At__c": "synced_at",
    },
    ("zendesk", "organization", "helpdesk_org_fields"): {"health_status": "health_band"},
}

written_state = sa.table(
    "written_state",
    sa.column("system", sa.String),
    sa.column("target_kind", sa.String),
    sa.column("field", sa.String),
)
outbox = sa.table(
    "outbox",
    sa.column("id", sa.Integer),
    sa.column("kind", sa.String),
    sa.column("payload", sa.JSON),
)


def _rename(forward: bool) -> None:
    bind = op.get_bind()
    for (system, target_kind, kind), names in RENAMES.items():
        pairs = names.items() if forward else [(new, old) for old, new in names.items()]
        for old, new in pairs:
            bind.execute(
                sa.update(written_state)
                .where(
                    written_state.c.system == system,
                    written_state.c.target_kind == target_kind,
                    written_state.c.field == old,
                )
                .values(field=new)
            )
        mapping = dict(pairs)
        rows = bind.execute(sa.select(outbox.c.id, outbox.c.payload).where(outbox.c.kind == kind))
        for item_id, payload in rows.all():
            fields = (payload or {}).get("fields")
            if not isinstance(fields, dict) or not set(fields) & set(mapping):
                continue
            renamed = {mapping.get(f, f): v for f, v in fields.items()}
            bind.execute(
                sa.update(outbox)
                .where(outbox.c.id == item_id)
                .values(payload={**payload, "fields": renamed})
            )


def upgrade() -> None:
    _rename(forward=True)


def downgrade() -> None:
    _rename(forward=False)
