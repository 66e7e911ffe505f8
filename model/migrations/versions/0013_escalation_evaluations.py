"""escalation evaluations: the inputs digest and book norms each account was last judged on

An incremental run evaluates an account's escalation rules only when what they read changed
since its last evaluation (escalation/scope.py). Empty at first: the next run (the day's
first, or any) evaluates everyone whose row is missing.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03 15:00:00
"""

import sqlalchemy as sa
from alembic import op

import model.tables

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "escalation_evaluations",
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("inputs_digest", sa.String(length=64), nullable=True),
        sa.Column("book_norms", sa.JSON(), nullable=False),
        sa.Column("evaluated_at", model.tables.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"]),
        sa.PrimaryKeyConstraint("account_id"),
    )


def downgrade() -> None:
    op.drop_table("escalation_evaluations")
