"""what the voice stage keeps so an hourly run costs what changed (issue 19)

- `survey_responses.synced_at` (indexed): when pulsehub last stored a change to the row (its
  `updated_at` is the survey source's clock), as `tickets.synced_at`;
- `survey_response_themes`, `ticket_themes`: the themes each comment / ticket mentions,
  matched once under the voice configuration the `voice:state` cursor names, and deleted
  with their row (ON DELETE CASCADE);
- an index on `accounts.crm_id` (linking responses by crm id alone); `accounts.updated_at`
  (accounts changed since a mark) is indexed by 0016_digest.
Existing responses get NULL: the first voice stage after the upgrade matches every row.

Revision ID: 0016_voice
Revises: 0014
Create Date: 2026-12-03 18:05:00
"""

import sqlalchemy as sa
from alembic import op

import model.tables

revision = "0016_voice"
down_revision = "0016_digest"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("survey_responses") as batch:
        batch.add_column(
            sa.Column("synced_at", model.tables.UTCDateTime(timezone=True), nullable=True)
        )
        batch.create_index("ix_survey_responses_synced_at", ["synced_at"])
    op.create_index("ix_accounts_crm_id", "accounts", ["crm_id"])  # no table rebuild: triggers stay
    op.create_table(
        "survey_response_themes",
        sa.Column("response_id", sa.Integer(), nullable=False),
        sa.Column("theme", sa.String(length=80), nullable=False),
        sa.ForeignKeyConstraint(["response_id"], ["survey_responses.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("response_id", "theme"),
    )
    op.create_table(
        "ticket_themes",
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("theme", sa.String(length=80), nullable=False),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("ticket_id", "theme"),
    )


def downgrade() -> None:
    op.drop_table("ticket_themes")
    op.drop_table("survey_response_themes")
    op.drop_index("ix_accounts_crm_id", table_name="accounts")
    with op.batch_alter_table("survey_responses") as batch:
        batch.drop_index("ix_survey_responses_synced_at")
        batch.drop_column("synced_at")
