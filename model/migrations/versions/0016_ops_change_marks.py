"""what the operations and reviews stages read to find what changed since their last mark

- indexes on `accounts.updated_at` (rows changed since a mark), `accounts.renewal_date`
  (renewals entering the review window: a date-range query), `health_snapshots
  (as_of, computed_at)` (the day's snapshots re-scored since a mark) and
  `escalations.updated_at` (escalations changed since a mark, for RCAs);
- `app_users.synced_at`: when pulsehub last stored a change to the user row (its
  `source_updated_at` is the usage source's clock), with its index: an account whose users
  changed since the last access-review mark is looked at again.
Existing users get NULL: with no mark committed yet, the first run looks at the whole book.

Revision ID: 0016_ops
Revises: 0014
Create Date: 2026-12-03 18:10:00
"""

import sqlalchemy as sa
from alembic import op

import model.tables

revision = "0016_ops"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("accounts") as batch:
        batch.create_index("ix_accounts_updated_at", ["updated_at"])
        batch.create_index("ix_accounts_renewal_date", ["renewal_date"])
    with op.batch_alter_table("health_snapshots") as batch:
        batch.create_index("ix_health_snapshots_as_of_computed_at", ["as_of", "computed_at"])
    with op.batch_alter_table("escalations") as batch:
        batch.create_index("ix_escalations_updated_at", ["updated_at"])
    with op.batch_alter_table("app_users") as batch:
        batch.add_column(
            sa.Column("synced_at", model.tables.UTCDateTime(timezone=True), nullable=True)
        )
        batch.create_index("ix_app_users_synced_at", ["synced_at"])


def downgrade() -> None:
    with op.batch_alter_table("app_users") as batch:
        batch.drop_index("ix_app_users_synced_at")
        batch.drop_column("synced_at")
    with op.batch_alter_table("escalations") as batch:
        batch.drop_index("ix_escalations_updated_at")
    with op.batch_alter_table("health_snapshots") as batch:
        batch.drop_index("ix_health_snapshots_as_of_computed_at")
    with op.batch_alter_table("accounts") as batch:
        batch.drop_index("ix_accounts_renewal_date")
        batch.drop_index("ix_accounts_updated_at")
