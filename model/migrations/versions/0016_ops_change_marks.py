"""what the operations and reviews stages read to find what changed since their last mark

- indexes on `accounts.renewal_date` (renewals entering the review window: a date-range
  query) and `health_snapshots (as_of, computed_at)` (the day's snapshots re-scored since a
  mark); `accounts.updated_at` and `escalations.updated_at` (rows changed since a mark) are
  indexed by 0016_digest;
- `app_users.synced_at`: when pulsehub last stored a change to the user row (its
  `source_updated_at` is the usage source's clock), with its index: an account whose users
  changed since the last access-review mark is looked at again.
Existing users get NULL: with no mark committed yet, the first run looks at the whole book.

Revision ID: 0016_ops
Revises: 0016_voice
Create Date: 2026-12-03 18:10:00
"""

import sqlalchemy as sa
from alembic import op

import model.tables

revision = "0016_ops"
down_revision = "0016_voice"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # plain CREATE INDEX (no batch rebuild): the accounts table keeps 0016_digest's triggers
    op.create_index("ix_accounts_renewal_date", "accounts", ["renewal_date"])
    op.create_index(
        "ix_health_snapshots_as_of_computed_at", "health_snapshots", ["as_of", "computed_at"]
    )
    with op.batch_alter_table("app_users") as batch:
        batch.add_column(
            sa.Column("synced_at", model.tables.UTCDateTime(timezone=True), nullable=True)
        )
        batch.create_index("ix_app_users_synced_at", ["synced_at"])


def downgrade() -> None:
    with op.batch_alter_table("app_users") as batch:
        batch.drop_index("ix_app_users_synced_at")
        batch.drop_column("synced_at")
    op.drop_index("ix_health_snapshots_as_of_computed_at", table_name="health_snapshots")
    op.drop_index("ix_accounts_renewal_date", table_name="accounts")
