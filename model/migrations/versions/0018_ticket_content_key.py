"""tickets.content_key: a fingerprint of a ticket's subject and tags, less band tags

The repeated-issue rule's book digest sums it over the rule's window, so an hourly run tells
whether the book's topics changed without re-reading every ticket of the window, and a band
tag pulsehub wrote and read back is not a change (escalation/scope.py `book_digest`). Rows
stored before this keep NULL until they are pulled again; the digest counts the keyed rows,
so a row getting its key moves it once.

Revision ID: 0018_content_key
Revises: 0017_lookups
Create Date: 2026-12-05 03:00:00
"""

import sqlalchemy as sa
from alembic import op

from model.change_tables import create_triggers, drop_triggers

revision = "0018_content_key"
down_revision = "0017_lookups"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # plain ADD COLUMN (no batch rebuild): the table keeps 0016_digest's triggers
    op.add_column("tickets", sa.Column("content_key", sa.Integer(), nullable=True))


def downgrade() -> None:
    # SQLite drops a column by rebuilding the table, which loses its triggers: re-create them
    drop_triggers(op.get_bind())
    with op.batch_alter_table("tickets") as batch:
        batch.drop_column("content_key")
    create_triggers(op.get_bind())
