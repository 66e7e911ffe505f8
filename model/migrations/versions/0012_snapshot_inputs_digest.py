"""health snapshots carry the digest of their inputs (incremental scoring)

A run later in the day re-scores only accounts whose inputs digest (scoring/changes.py)
differs from the one stored with the day's snapshot. Existing rows get NULL: unknown, so
they are re-scored by the next run.

Revision ID: 0012
Revises: 0010
Create Date: 2026-12-03 12:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("health_snapshots") as batch:
        batch.add_column(sa.Column("inputs_digest", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("health_snapshots") as batch:
        batch.drop_column("inputs_digest")
