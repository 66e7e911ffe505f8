"""CS operations: erased keys and data-request audit lines, RCA reviews

`pulsehub data delete` erases an account and keeps its external keys in `erased_keys` so a
later pull does not bring it back (`data relink` lifts them); every data request leaves an
audit line in `data_requests`. `rca_reviews` holds the RCA owed for each solved engineering
escalation (due, done, reminded); `app_users` the product's users (role, status, last login)
for the quarterly access reviews.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 12:00:00
"""

import sqlalchemy as sa
from alembic import op

import model.tables

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "data_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(length=255), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_at", model.tables.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "erased_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entity", sa.String(length=40), nullable=False),
        sa.Column("value", sa.String(length=255), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("erased_at", model.tables.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["request_id"], ["data_requests.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("entity", "value"),
    )
    op.create_index("ix_erased_keys_request_id", "erased_keys", ["request_id"])
    op.create_table(
        "rca_reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("escalation_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("helpdesk_ticket_id", sa.BigInteger(), nullable=True),
        sa.Column("solved_at", model.tables.UTCDateTime(timezone=True), nullable=False),
        sa.Column("due_at", model.tables.UTCDateTime(timezone=True), nullable=False),
        sa.Column("done_at", model.tables.UTCDateTime(timezone=True), nullable=True),
        sa.Column("done_by", sa.String(length=255), nullable=True),
        sa.Column("reminded_at", model.tables.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"]),
        sa.ForeignKeyConstraint(["escalation_id"], ["escalations.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("escalation_id"),
    )
    op.create_index("ix_rca_reviews_account_id", "rca_reviews", ["account_id"])


    op.create_table(
        "app_users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("external_id", sa.String(length=64), nullable=False),
        sa.Column("workspace_id", sa.String(length=64), nullable=False),
        sa.Column("email", sa.String(length=255), nullable=True),
        sa.Column("name", sa.String(length=255), nullable=True),
        sa.Column("role", sa.String(length=40), nullable=True),
        sa.Column("status", sa.String(length=40), nullable=True),
        sa.Column("last_login_at", model.tables.UTCDateTime(timezone=True), nullable=True),
        sa.Column("source_created_at", model.tables.UTCDateTime(timezone=True), nullable=True),
        sa.Column("source_updated_at", model.tables.UTCDateTime(timezone=True), nullable=True),
        sa.Column("is_deleted", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("source", "external_id"),
    )
    op.create_index("ix_app_users_workspace_id", "app_users", ["workspace_id"])


def downgrade() -> None:
    op.drop_index("ix_app_users_workspace_id", table_name="app_users")
    op.drop_table("app_users")
    op.drop_index("ix_rca_reviews_account_id", table_name="rca_reviews")
    op.drop_table("rca_reviews")
    op.drop_index("ix_erased_keys_request_id", table_name="erased_keys")
    op.drop_table("erased_keys")
    op.drop_table("data_requests")
