"""score_audits: stored audits of the score's trust (weekly drift, CSM override rates)

Written by the nightly reconcile, `pulsehub score audit` and the demo (scoring/trust.py); the
dashboard's audit page reads the newest, so a page view never re-reads weeks of snapshots.

Revision ID: 0022_score_audits
Revises: 0021_state_key
Create Date: 2026-12-06 23:50:00
"""

import sqlalchemy as sa
from alembic import op

import model.tables

revision = "0022_score_audits"
down_revision = "0021_state_key"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "score_audits",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("created_at", model.tables.UTCDateTime(timezone=True), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=True),
        sa.Column("source", sa.String(40), nullable=False),
        sa.Column("report", sa.JSON(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("score_audits")
