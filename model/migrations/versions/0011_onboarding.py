"""customer-success operations: onboarding phases, handoffs, CSM cover

Onboarding phase history per account (one open row is the current phase), the lifecycle stage
last seen per account (a change from implementation to support is a handoff), handoffs with
their checklist result, and covering CSMs for date ranges.

Revision ID: 0011
Revises: 0008
Create Date: 2026-12-03 12:00:00
"""

import sqlalchemy as sa
from alembic import op

import model.tables

revision = "0011"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "onboarding_phases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("phase", sa.String(length=40), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("entered_on", sa.Date(), nullable=False),
        sa.Column("exited_on", sa.Date(), nullable=True),
        sa.Column("stalled_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("account_id", "phase", "entered_on"),
    )
    op.create_index(
        op.f("ix_onboarding_phases_account_id"), "onboarding_phases", ["account_id"], unique=False
    )
    op.create_table(
        "account_stages",
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("stage", sa.String(length=40), nullable=True),
        sa.Column("seen_on", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"]),
        sa.PrimaryKeyConstraint("account_id"),
    )
    op.create_table(
        "handoffs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("handed_off_on", sa.Date(), nullable=False),
        sa.Column("from_stage", sa.String(length=40), nullable=True),
        sa.Column("to_stage", sa.String(length=40), nullable=True),
        sa.Column("complete", sa.Boolean(), nullable=False),
        sa.Column("checked", sa.JSON(), nullable=False),
        sa.Column("missing", sa.JSON(), nullable=False),
        sa.Column("owner_crm_id", sa.String(length=18), nullable=True),
        sa.Column("created_at", model.tables.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("account_id", "handed_off_on"),
    )
    op.create_index(op.f("ix_handoffs_account_id"), "handoffs", ["account_id"], unique=False)
    op.create_table(
        "csm_covers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("owner_crm_id", sa.String(length=18), nullable=False),
        sa.Column("cover_crm_id", sa.String(length=18), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("note", sa.String(length=255), nullable=True),
        sa.Column("created_at", model.tables.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_csm_covers_owner_dates", "csm_covers", ["owner_crm_id", "starts_on", "ends_on"]
    )


def downgrade() -> None:
    op.drop_index("ix_csm_covers_owner_dates", table_name="csm_covers")
    op.drop_table("csm_covers")
    op.drop_index(op.f("ix_handoffs_account_id"), table_name="handoffs")
    op.drop_table("handoffs")
    op.drop_table("account_stages")
    op.drop_index(op.f("ix_onboarding_phases_account_id"), table_name="onboarding_phases")
    op.drop_table("onboarding_phases")
