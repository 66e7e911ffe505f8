"""fitted renewal-risk models, versioned

`pulsehub score fit` (and the nightly reconcile, when enough new outcomes exist) stores each
fitted, calibrated model here; scoring uses the newest active row, else the scorecard prior.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03 06:00:00
"""

import sqlalchemy as sa
from alembic import op

import model.tables

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "risk_models",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", model.tables.UTCDateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("horizon_days", sa.Integer(), nullable=False),
        sa.Column("trained_on", sa.String(length=255), nullable=False),
        sa.Column("samples", sa.Integer(), nullable=False),
        sa.Column("outcomes", sa.Integer(), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("metrics", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("risk_models")
