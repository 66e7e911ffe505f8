"""what an O(change) inputs digest reads (scoring/digest_marks.py)

- `updated_at` on contacts, opportunities, usage rows and overrides: when pulsehub last
  stored a change to the row (the upsert moves it only with a change of content);
- indexes on every change stamp the digest reads since its mark (accounts, identities,
  contacts, opportunities, usage, escalations, overrides; tickets' `synced_at` has one);
- `account_changes`, written by triggers, the accounts a row left (moved away or deleted:
  model/change_tables.py), and `inputs_digests`, every live account's digest as of the last
  committed scoring.
Existing rows get NULL stamps: no digest mark exists yet, so the first run digests in full.

Revision ID: 0016_digest
Revises: 0014
Create Date: 2026-12-03 18:10:00
"""

import sqlalchemy as sa
from alembic import op

import model.tables
from model.change_tables import create_triggers, drop_triggers

revision = "0016_digest"
down_revision = "0014"
branch_labels = None
depends_on = None

NEW_STAMPS = ("contacts", "opportunities", "usage_daily", "score_overrides")
INDEXED = ("accounts", "external_identities", "escalations", *NEW_STAMPS)


def upgrade() -> None:
    for table in INDEXED:
        with op.batch_alter_table(table) as batch:
            if table in NEW_STAMPS:
                batch.add_column(
                    sa.Column("updated_at", model.tables.UTCDateTime(timezone=True), nullable=True)
                )
            batch.create_index(f"ix_{table}_updated_at", ["updated_at"])
    op.create_table(
        "account_changes",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "inputs_digests",
        sa.Column("account_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("scorable", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("account_id"),
    )
    create_triggers(op.get_bind())


def downgrade() -> None:
    drop_triggers(op.get_bind())
    op.drop_table("inputs_digests")
    op.drop_table("account_changes")
    for table in reversed(INDEXED):
        with op.batch_alter_table(table) as batch:
            batch.drop_index(f"ix_{table}_updated_at")
            if table in NEW_STAMPS:
                batch.drop_column("updated_at")
