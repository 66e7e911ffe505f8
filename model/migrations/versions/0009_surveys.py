"""survey responses (NPS, CES, CSAT from any source) and theme alerts

Revision ID: 0009
Revises: 0011
Create Date: 2026-12-03 12:00:00
"""

import sqlalchemy as sa
from alembic import op

from model.orm import UTCDateTime

revision = "0009"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "survey_responses",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("external_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("responded_at", UTCDateTime(), nullable=False),
        sa.Column("respondent", sa.String(255), nullable=True),
        sa.Column("crm_account_id", sa.String(18), nullable=True),
        sa.Column("workspace_id", sa.String(64), nullable=True),
        sa.Column("organization_id", sa.String(64), nullable=True),
        sa.Column("account_id", sa.Integer(), sa.ForeignKey("accounts.id"), nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("source", "external_id"),
    )
    op.create_index(
        "ix_survey_responses_account_kind",
        "survey_responses",
        ["account_id", "kind", "responded_at"],
    )
    op.create_index("ix_survey_responses_responded_at", "survey_responses", ["responded_at"])
    op.create_table(
        "voice_alerts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("theme", sa.String(80), nullable=False),
        sa.Column("period", sa.String(20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("owner", sa.String(255), nullable=True),
        sa.Column("accounts", sa.Integer(), nullable=False),
        sa.Column("affected_arr", sa.Float(), nullable=False),
        sa.Column("impact", sa.Float(), nullable=False),
        sa.Column("outbox_key", sa.String(255), nullable=True),
        sa.Column("crm_task_id", sa.String(64), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("theme", "period"),
    )


def downgrade() -> None:
    op.drop_table("voice_alerts")
    op.drop_index("ix_survey_responses_responded_at", "survey_responses")
    op.drop_index("ix_survey_responses_account_kind", "survey_responses")
    op.drop_table("survey_responses")
