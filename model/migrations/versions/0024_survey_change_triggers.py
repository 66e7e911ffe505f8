"""survey_responses: a response moved off an account, or deleted, logs the account it left

Scoring reads survey answers (scoring/survey_queries.py), so an account's inputs digest covers
them (scoring/changes.py) and a row that leaves it must show as a change, as for tickets and
usage rows: the change triggers (model/change_tables.py) now cover `survey_responses`.

Revision ID: 0024_survey_change_triggers
Revises: 0023_match_changed_at
Create Date: 2026-12-07 03:30:00
"""

from alembic import op

revision = "0024_survey_change_triggers"
down_revision = "0023_match_changed_at"
branch_labels = None
depends_on = None


def upgrade() -> None:
    from model.change_tables import create_triggers, drop_triggers

    drop_triggers(op.get_bind())
    create_triggers(op.get_bind())


def downgrade() -> None:
    from model.change_tables import ACCOUNT_COLUMNS, drop_trigger_ddl, trigger_ddl

    bind = op.get_bind()
    for statement in drop_trigger_ddl(bind.dialect.name):
        op.execute(statement)
    kept = [c for c in ACCOUNT_COLUMNS if c[0] != "survey_responses"]
    for statement in trigger_ddl(bind.dialect.name, kept):
        op.execute(statement)
