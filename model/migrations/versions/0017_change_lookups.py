"""indexes for the lookups an unchanged run still made over whole tables

- `tickets.helpdesk_id`: an escalation's engineering ticket is found by its helpdesk id (and
  source, unless the escalation predates it: `escalation.lifecycle.taken_up`); the unique
  index leads with the source, so each open escalation scanned that index whole (0.34 s at
  2,000 accounts, growing with tickets x open escalations);
- `usage_daily.day`: the usage feed's newest day (`scoring.queries.usage_feed_last`, in every
  run's inputs digest) was a scan of every usage row.

Revision ID: 0017_lookups
Revises: 0016_ops
Create Date: 2026-12-03 23:00:00
"""

from alembic import op

revision = "0017_lookups"
down_revision = "0016_ops"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # plain CREATE INDEX (no batch rebuild): both tables keep 0016_digest's triggers
    op.create_index("ix_tickets_helpdesk_id", "tickets", ["helpdesk_id"])
    op.create_index("ix_usage_daily_day", "usage_daily", ["day"])


def downgrade() -> None:
    op.drop_index("ix_usage_daily_day", table_name="usage_daily")
    op.drop_index("ix_tickets_helpdesk_id", table_name="tickets")
