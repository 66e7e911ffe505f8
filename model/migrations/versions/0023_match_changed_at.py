"""accounts/external_identities.match_changed_at: moved only by what identity matching reads

Identity resolution scoped its re-matching by `updated_at`, which pulsehub's own write-back
moves (an organization's custom fields, a crm account's modstamp and read-back fields), so the
run after a write-back matched every written identity again (model/match_fields.py). Existing
rows start from their `updated_at`: nothing is re-matched by the upgrade itself.

Revision ID: 0023_match_changed_at
Revises: 0022_score_audits
Create Date: 2026-12-07 00:30:00
"""

import sqlalchemy as sa
from alembic import op

import model.tables

revision = "0023_match_changed_at"
down_revision = "0022_score_audits"
branch_labels = None
depends_on = None

TABLES = ("accounts", "external_identities")


def upgrade() -> None:
    # plain ADD COLUMN (no batch rebuild): the tables keep 0016's change triggers
    for table in TABLES:
        op.add_column(
            table,
            sa.Column("match_changed_at", model.tables.UTCDateTime(timezone=True), nullable=True),
        )
        op.execute(f"UPDATE {table} SET match_changed_at = updated_at")
        op.create_index(f"ix_{table}_match_changed_at", table, ["match_changed_at"])


def downgrade() -> None:
    from model.change_tables import create_triggers, drop_triggers

    drop_triggers(op.get_bind())
    for table in TABLES:
        op.drop_index(f"ix_{table}_match_changed_at", table_name=table)
        with op.batch_alter_table(table) as batch:
            batch.drop_column("match_changed_at")
    create_triggers(op.get_bind())
