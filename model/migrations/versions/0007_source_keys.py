"""source-keyed external ids: several instances of one system feed one model

Two helpdesk instances both have a ticket 1 and an organization 1; two crm orgs can share
nothing but their id format. Every external id that can collide across instances is now
keyed by its source: tickets, contacts and opportunities get a `source` column, accounts a
`crm_source`, escalations the `helpdesk_source` their engineering ticket lives in, and the
unique constraints move from (id) to (source, id); the outbox's one-pending-write-per-target
index takes the item's `system` (its source) too.

The new columns are back-filled with the one source of each kind a database at 0006 can
hold (a run took one crm and one helpdesk source): the name found in the stored rows
(organization identities, written state, outbox items), else the built-in default
("salesforce", "zendesk"). The downgrade refuses to run when the rows could no longer fit
the old keys (two sources of one kind stored).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 12:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

DEFAULT_SOURCE = {"crm": "salesforce", "helpdesk": "zendesk"}
# table -> (source column, id column, kind of source, nullable)
KEYED = {
    "accounts": ("crm_source", "crm_id", "crm", True),
    "contacts": ("source", "crm_id", "crm", False),
    "opportunities": ("source", "crm_id", "crm", False),
    "tickets": ("source", "helpdesk_id", "helpdesk", False),
}
# where a 0006 database names its sources: (table, source column, filter column, values)
EVIDENCE = {
    "crm": [
        ("written_state", "system", "target_kind", ("account",)),
        ("outbox", "system", "kind", ("crm_account_fields", "crm_task")),
    ],
    "helpdesk": [
        ("external_identities", "source", "kind", ("organization",)),
        ("written_state", "system", "target_kind", ("organization", "ticket")),
        ("outbox", "system", "kind", ("helpdesk_org_fields", "helpdesk_ticket_tags",
                                      "helpdesk_ticket", "helpdesk_comment",
                                      "helpdesk_escalation_tags")),
    ],
}  # fmt: skip
OUTBOX_INDEX = "uq_outbox_pending_target"
PENDING = sa.text("status = 'pending'")


def _old_unique(table: str, column: str) -> str:
    """The name of the single-column unique constraint: PostgreSQL's default, or the name
    the batch's naming convention gives SQLite's unnamed one."""
    return f"{table}_{column}_key"


def _new_unique(table: str, source: str, column: str) -> str:
    return "uq_accounts_crm_source_id" if table == "accounts" else f"uq_{table}_{source}_{column}"


def source_of(kind: str) -> str:
    """The one stored source name of `kind` (crm | helpdesk), else the built-in default."""
    bind = op.get_bind()
    for table, column, where, values in EVIDENCE[kind]:
        found = sorted(
            {
                name
                for name in bind.execute(
                    sa.text(f"SELECT DISTINCT {column} FROM {table} WHERE {where} IN :v").bindparams(
                        sa.bindparam("v", expanding=True)
                    ),
                    {"v": list(values)},
                ).scalars()
                if name
            }
        )
        if len(found) == 1:
            return found[0]
    return DEFAULT_SOURCE[kind]


def upgrade() -> None:
    bind = op.get_bind()
    names = {kind: source_of(kind) for kind in DEFAULT_SOURCE}
    convention = {"uq": "%(table_name)s_%(column_0_name)s_key"}
    for table, (source, column, kind, nullable) in KEYED.items():
        with op.batch_alter_table(table) as batch_op:
            batch_op.add_column(sa.Column(source, sa.String(length=20), nullable=True))
        fill = f"UPDATE {table} SET {source} = :name"
        if nullable:  # an account without a crm id belongs to no crm source
            fill += f" WHERE {column} IS NOT NULL"
        bind.execute(sa.text(fill), {"name": names[kind]})
        with op.batch_alter_table(table, naming_convention=convention) as batch_op:
            batch_op.drop_constraint(_old_unique(table, column), type_="unique")
            if not nullable:
                batch_op.alter_column(source, existing_type=sa.String(length=20), nullable=False)
            batch_op.create_unique_constraint(
                _new_unique(table, source, column), [source, column]
            )
    with op.batch_alter_table("escalations") as batch_op:
        batch_op.add_column(sa.Column("helpdesk_source", sa.String(length=20), nullable=True))
    bind.execute(
        sa.text(
            "UPDATE escalations SET helpdesk_source = :name WHERE helpdesk_ticket_id IS NOT NULL"
        ),
        {"name": names["helpdesk"]},
    )
    _outbox_index(["system", "kind", "target_id"])


def downgrade() -> None:
    bind = op.get_bind()
    for table, (source, column, _, _) in KEYED.items():
        clash = bind.execute(
            sa.text(
                f"SELECT {column} FROM {table} WHERE {column} IS NOT NULL "
                f"GROUP BY {column} HAVING COUNT(*) > 1 LIMIT 1"
            )
        ).scalar()
        if clash is not None:
            raise RuntimeError(
                f"{table} holds {column} {clash!r} from two sources: 0006 keys {table} by "
                f"{column} alone — delete one source's rows before downgrading"
            )
    _outbox_index(["kind", "target_id"])
    with op.batch_alter_table("escalations") as batch_op:
        batch_op.drop_column("helpdesk_source")
    for table, (source, column, _, _) in KEYED.items():
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_constraint(_new_unique(table, source, column), type_="unique")
            batch_op.drop_column(source)
            batch_op.create_unique_constraint(_old_unique(table, column), [column])


def _outbox_index(columns: list[str]) -> None:
    op.drop_index(OUTBOX_INDEX, table_name="outbox")
    op.create_index(
        OUTBOX_INDEX,
        "outbox",
        columns,
        unique=True,
        sqlite_where=PENDING,
        postgresql_where=PENDING,
    )
