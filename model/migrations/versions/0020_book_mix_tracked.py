"""book_mix_days: a day's row counts only the signatures it tracks; drop the old whole-mix rows

Each row used to hold every tag, word and word pair of the day's tickets; it now holds the
signatures some account's clusters carry, zeros included (escalation/book_days.py). The old
rows are derived and re-countable: dropping them costs the next run one read of the rule's
window, and keeps a large book's old rows from being read and tracked on.

Revision ID: 0020_book_mix_tracked
Revises: 0019_book_mix_days
Create Date: 2026-12-06 09:00:00
"""

from alembic import op

revision = "0020_book_mix_tracked"
down_revision = "0019_book_mix_days"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("DELETE FROM book_mix_days")


def downgrade() -> None:
    op.execute("DELETE FROM book_mix_days")  # the old code re-counts its whole mix from tickets
