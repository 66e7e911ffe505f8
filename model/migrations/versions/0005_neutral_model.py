"""vendor-neutral model: crm_/helpdesk_ columns, neutral outbox kinds, identity kinds

Renames the vendor-named columns (sf_id -> crm_id, zd_id -> helpdesk_id, ...) and their
indexes and unique constraints, keeping every value; rewrites what stored the old names —
outbox kinds and the kind prefix of field-write keys, JSON keys in outbox payloads/results,
escalation details and run stats, the account attributes naming an organization or a
workspace — and gives each external identity a `kind` (organization | workspace) derived
from its source, which identity resolution now goes by. The downgrade reverses all of it.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 08:30:00
"""

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# table -> {old column: new column}
COLUMNS = {
    "accounts": {"sf_id": "crm_id", "owner_sf_id": "owner_crm_id", "parent_sf_id": "parent_crm_id"},
    "contacts": {"sf_id": "crm_id", "account_sf_id": "account_crm_id"},
    "opportunities": {"sf_id": "crm_id", "account_sf_id": "account_crm_id"},
    "external_identities": {"hint_sf_id": "hint_crm_id"},
    "tickets": {"zd_id": "helpdesk_id", "zd_org_id": "helpdesk_org_id"},
    "escalations": {"zd_ticket_id": "helpdesk_ticket_id", "sf_task_id": "crm_task_id"},
}
# table -> (old indexed column, new) for the `ix_<table>_<column>` indexes of index=True columns
INDEXED = {
    "accounts": ("parent_sf_id", "parent_crm_id"),
    "contacts": ("account_sf_id", "account_crm_id"),
    "opportunities": ("account_sf_id", "account_crm_id"),
    "tickets": ("zd_org_id", "helpdesk_org_id"),
}
# table -> (old, new) unique column: PostgreSQL names its constraint `<table>_<column>_key`
UNIQUE = {
    "accounts": ("sf_id", "crm_id"),
    "contacts": ("sf_id", "crm_id"),
    "opportunities": ("sf_id", "crm_id"),
    "tickets": ("zd_id", "helpdesk_id"),
}
KINDS = {
    "sf_account_fields": "crm_account_fields",
    "sf_task": "crm_task",
    "zd_org_fields": "helpdesk_org_fields",
    "zd_ticket_tags": "helpdesk_ticket_tags",
    "zd_ticket": "helpdesk_ticket",
    "zd_comment": "helpdesk_comment",
    "zd_esc_tags": "helpdesk_escalation_tags",
}
# JSON keys (outbox payloads, escalation details, run stats) that were column or kind names
JSON_KEYS = {old: new for cols in COLUMNS.values() for old, new in cols.items()} | KINDS
ACCOUNT_ATTRIBUTES = {"zendesk_org_id": "organization_id", "usage_workspace_id": "workspace_id"}
KIND_INDEX = "ix_external_identities_kind_external_id"
IDENTITY_KIND = {"zendesk": "organization", "usage": "workspace"}  # the only sources at 0004

JSON_COLUMNS = (("outbox", ("payload", "result")), ("escalations", ("details",)),
                ("sync_runs", ("stats",)))  # fmt: skip


def upgrade() -> None:
    _rename_schema(forward=True)
    _add_identity_kind()
    _rewrite_data(forward=True)


def downgrade() -> None:
    _rewrite_data(forward=False)
    with op.batch_alter_table("external_identities") as batch_op:
        batch_op.drop_index(KIND_INDEX)
        batch_op.drop_column("kind")
    _rename_schema(forward=False)


def _rename_schema(*, forward: bool) -> None:
    """Rename the columns, their `ix_` indexes and (PostgreSQL) unique constraints."""
    postgres = op.get_bind().dialect.name == "postgresql"
    for table, columns in COLUMNS.items():
        renames = columns if forward else {new: old for old, new in columns.items()}
        indexed = INDEXED.get(table)
        with op.batch_alter_table(table) as batch_op:
            if indexed:
                old = indexed[0] if forward else indexed[1]
                batch_op.drop_index(f"ix_{table}_{old}")
            for old, new in renames.items():
                batch_op.alter_column(old, new_column_name=new)
        if indexed:  # after the batch: SQLite's copy of the table has the new names only then
            new = indexed[1] if forward else indexed[0]
            op.create_index(f"ix_{table}_{new}", table, [new], unique=False)
        if postgres and table in UNIQUE:
            old, new = UNIQUE[table] if forward else UNIQUE[table][::-1]
            op.execute(
                f'ALTER TABLE {table} RENAME CONSTRAINT "{table}_{old}_key" TO "{table}_{new}_key"'
            )


def _add_identity_kind() -> None:
    """`external_identities.kind`, filled from each row's source; an unknown source stops."""
    bind = op.get_bind()
    sources = set(
        bind.execute(sa.text("SELECT DISTINCT source FROM external_identities")).scalars()
    )
    if unknown := sources - set(IDENTITY_KIND):
        raise RuntimeError(
            f"external_identities has rows of source(s) {sorted(unknown)} whose kind is unknown: "
            "add them to IDENTITY_KIND in this migration (organization | workspace)"
        )
    with op.batch_alter_table("external_identities") as batch_op:
        batch_op.add_column(sa.Column("kind", sa.String(length=20), nullable=True))
    for source, kind in IDENTITY_KIND.items():
        bind.execute(
            sa.text("UPDATE external_identities SET kind = :kind WHERE source = :source"),
            {"kind": kind, "source": source},
        )
    with op.batch_alter_table("external_identities") as batch_op:
        batch_op.alter_column("kind", existing_type=sa.String(length=20), nullable=False)
    op.create_index(KIND_INDEX, "external_identities", ["kind", "external_id"], unique=False)


def _rewrite_data(*, forward: bool) -> None:
    """Rewrite stored kind strings, key prefixes, JSON keys and account attributes."""
    bind = op.get_bind()
    kinds = KINDS if forward else {new: old for old, new in KINDS.items()}
    json_keys = JSON_KEYS if forward else {new: old for old, new in JSON_KEYS.items()}
    attributes = ACCOUNT_ATTRIBUTES if forward else {v: k for k, v in ACCOUNT_ATTRIBUTES.items()}
    outbox = sa.table("outbox", sa.column("id"), sa.column("kind"), sa.column("key"))
    for old, new in kinds.items():
        bind.execute(sa.update(outbox).where(outbox.c.kind == old).values(kind=new))
        rows = bind.execute(
            sa.select(outbox.c.id, outbox.c.key).where(
                outbox.c.key.startswith(f"{old}:", autoescape=True)
            )
        )
        for row_id, key in rows.all():
            bind.execute(
                sa.update(outbox).where(outbox.c.id == row_id).values(key=new + key[len(old) :])
            )
    for table, columns in JSON_COLUMNS:
        _rewrite_json(table, columns, lambda value: _rename_keys(value, json_keys))
    _rewrite_json(
        "accounts", ("attributes",), lambda value: _rename_keys(value, attributes, deep=False)
    )


def _rewrite_json(table: str, columns: tuple[str, ...], rewrite: Any) -> None:
    """Apply `rewrite` to each JSON value of `columns`; write back only the rows it changed."""
    bind = op.get_bind()
    t = sa.table(table, sa.column("id"), *(sa.column(c, sa.JSON) for c in columns))
    for row in bind.execute(sa.select(t.c.id, *(t.c[c] for c in columns))).all():
        values = {c: rewrite(row._mapping[c]) for c in columns}
        changed = {c: v for c, v in values.items() if v != row._mapping[c]}
        if changed:
            bind.execute(sa.update(t).where(t.c.id == row.id).values(**changed))


def _rename_keys(value: Any, names: Mapping[str, str], *, deep: bool = True) -> Any:
    """`value` with dict keys in `names` renamed (in nested dicts and lists too when `deep`)."""
    if isinstance(value, dict):
        inner = (lambda v: _rename_keys(v, names)) if deep else (lambda v: v)
        return {names.get(k, k): inner(v) for k, v in value.items()}
    if isinstance(value, list) and deep:
        return [_rename_keys(v, names) for v in value]
    return value
