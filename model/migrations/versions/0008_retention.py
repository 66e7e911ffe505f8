"""opportunities carry their contract term

Retention metrics annualize every deal (ARR = amount x 12 / term months): a three-year renewal
of 300k is 100k of ARR, not 300k. NULL means the shipped default term (12 months).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 12:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("opportunities") as batch:
        batch.add_column(sa.Column("term_months", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("opportunities") as batch:
        batch.drop_column("term_months")
