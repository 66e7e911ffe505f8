"""tickets.state_key: a fingerprint of a ticket's status, priority, type and rating

The inputs digest (scoring/changes.py) read each account's newest ticket `updated_at`, which
moves whenever pulsehub's own band tags are written to a ticket and read back, so the run after
a write-back re-scored every account it had tagged (at 1,000 accounts, 313 of the 325 a day's
second run re-scored). The digest now sums this key and `content_key` instead. Rows stored
before this keep NULL until they are pulled again; the digest counts the keyed rows, so a row
getting its key moves its account's digest once.

Revision ID: 0021_state_key
Revises: 0020_book_mix_tracked
Create Date: 2026-12-06 18:00:00
"""

import sqlalchemy as sa
from alembic import op

from model.change_tables import create_triggers, drop_triggers

revision = "0021_state_key"
down_revision = "0020_book_mix_tracked"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # plain ADD COLUMN (no batch rebuild): the table keeps 0016_digest's triggers
    op.add_column("tickets", sa.Column("state_key", sa.Integer(), nullable=True))


def downgrade() -> None:
    # SQLite drops a column by rebuilding the table, which loses its triggers: re-create them
    drop_triggers(op.get_bind())
    with op.batch_alter_table("tickets") as batch:
        batch.drop_column("state_key")
    create_triggers(op.get_bind())
