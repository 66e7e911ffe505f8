"""what the incremental write-back plan reads to find what changed since the last plan

- `tickets.synced_at`: when pulsehub last stored a change to the ticket row (the ticket's own
  `updated_at` is the helpdesk's clock, which a late pull can leave behind the plan's);
- `outbox.account_id`: the account a planned field/tag write belongs to, so a plan of some
  accounts supersedes exactly their pending writes it no longer wants;
- indexes on both and on `outbox.done_at` (targets written or dead-lettered since).
Existing rows get NULL: the first plan after the upgrade covers the whole book.

Revision ID: 0014
Revises: 0015
Create Date: 2026-12-03 14:45:00
"""

import sqlalchemy as sa
from alembic import op

import model.tables

revision = "0014"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(
            sa.Column("synced_at", model.tables.UTCDateTime(timezone=True), nullable=True)
        )
        batch.create_index("ix_tickets_synced_at", ["synced_at"])
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("account_id", sa.Integer(), nullable=True))
        batch.create_index("ix_outbox_account_id", ["account_id"])
        batch.create_index("ix_outbox_done_at", ["done_at"])


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_index("ix_outbox_done_at")
        batch.drop_index("ix_outbox_account_id")
        batch.drop_column("account_id")
    with op.batch_alter_table("tickets") as batch:
        batch.drop_index("ix_tickets_synced_at")
        batch.drop_column("synced_at")
