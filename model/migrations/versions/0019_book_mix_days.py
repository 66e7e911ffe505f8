"""book_mix_days: the repeated-issue rule's book topic mix, one row per day of tickets

Derived from tickets and re-counted whenever a day's tickets change (escalation/book_days.py),
so an empty table only costs the next run one full read of the rule's window.

Revision ID: 0019_book_mix_days
Revises: 0018_content_key
Create Date: 2026-12-05 06:30:00
"""

import sqlalchemy as sa
from alembic import op

import model.tables

revision = "0019_book_mix_days"
down_revision = "0018_content_key"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "book_mix_days",
        sa.Column("settings", sa.String(64), primary_key=True),
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("digest", sa.String(100), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("computed_at", model.tables.UTCDateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("book_mix_days")
