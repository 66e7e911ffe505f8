"""reconcile reads stage the keys they saw in a table, not in memory

A nightly reconcile reads whole streams (accounts, contacts, opportunities, workspaces...) to
find rows deleted at the source. Their keys are staged in `reconcile_seen` page by page, and
the rows the table holds but the stage does not are marked deleted in one statement.

Revision ID: 0015
Revises: 0013
Create Date: 2026-12-03 15:10:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reconcile_seen",
        sa.Column("stream", sa.String(length=80), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.PrimaryKeyConstraint("stream", "key"),
    )


def downgrade() -> None:
    op.drop_table("reconcile_seen")
