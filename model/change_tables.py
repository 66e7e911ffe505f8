"""What an O(change) inputs digest reads besides the rows' own change stamps
(scoring/digest_marks.py): the accounts that *lost* an input row, and every live account's
digest as of the last committed scoring.

A row inserted or edited carries its account and a fresh change stamp (`updated_at`,
`synced_at` on tickets), so "changed since the mark" finds its account. A row that leaves an
account does not: a hard delete (an erasure) leaves no row at all, and a row re-pointed from
one account to another (an identity re-linked, a ticket moved to another organization, a
contact moved in the crm, a child moved to another parent) names only its new account. The
account it left is written to `account_changes` by database triggers, whichever code path
(or process, or hand-written SQL) moved or deleted the row. Triggers rather than calls in
those paths because the old account is known only to the database in the statements that move
rows in bulk (`propagate_links`, the upsert clearing a ticket's account when its organization
changes): a code-path log would need a RETURNING of the old values that neither ON CONFLICT
nor a plain UPDATE gives. The triggers fire only when a non-NULL account is left (linking a
new row, the bulk of a first sync, does not), so pulls pay nothing for them.

`account_changes` is consumed: the scoring run that reads its rows deletes exactly those rows
in its own transaction, so a crashed or dry run leaves them for the next one, and a row
committed while a run reads is not deleted unseen.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Connection, Integer, String, event
from sqlalchemy.orm import Mapped, mapped_column

from model.orm import Base

# (table, column naming the account the row counts for): an UPDATE moving the column off a
# non-NULL account, or a DELETE, logs the account left
ACCOUNT_COLUMNS = (
    ("contacts", "account_id"),
    ("opportunities", "account_id"),
    ("tickets", "account_id"),
    ("usage_daily", "account_id"),
    ("external_identities", "account_id"),
    ("escalations", "account_id"),
    ("score_overrides", "account_id"),
    ("accounts", "parent_id"),  # a parent's digest names its live children
)


class AccountChange(Base):
    """An account that lost an input row (moved away or deleted): written by triggers."""

    __tablename__ = "account_changes"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    account_id: Mapped[int] = mapped_column(Integer)


class InputsDigest(Base):
    """Each live account's inputs digest and whether scoring scores it, as the last committed
    scoring computed them (replaced whole by a full computation, per account otherwise)."""

    __tablename__ = "inputs_digests"

    account_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    digest: Mapped[str] = mapped_column(String(64))
    scorable: Mapped[bool] = mapped_column(Boolean)


def _names(table: str) -> tuple[str, str]:
    return f"trg_{table}_left_account", f"trg_{table}_deleted_account"


def _pg_function(column: str) -> str:
    return f"pulsehub_log_old_{column}"


def trigger_ddl(dialect: str) -> list[str]:
    """The statements creating the change-log triggers on `dialect` (sqlite | postgresql)."""
    out: list[str] = []
    if dialect == "postgresql":
        for column in sorted({c for _, c in ACCOUNT_COLUMNS}):
            out.append(
                f"CREATE OR REPLACE FUNCTION {_pg_function(column)}() RETURNS trigger "
                "LANGUAGE plpgsql AS $$ BEGIN "
                f"INSERT INTO account_changes (account_id) VALUES (OLD.{column}); "
                "RETURN NULL; END $$"
            )
    for table, column in ACCOUNT_COLUMNS:
        moved, deleted = _names(table)
        left = f"OLD.{column} IS NOT NULL AND OLD.{column} IS DISTINCT FROM NEW.{column}"
        gone = f"OLD.{column} IS NOT NULL"
        if dialect == "postgresql":
            run = f"EXECUTE FUNCTION {_pg_function(column)}()"
            out.append(
                f"CREATE TRIGGER {moved} AFTER UPDATE OF {column} ON {table} "
                f"FOR EACH ROW WHEN ({left}) {run}"
            )
            out.append(
                f"CREATE TRIGGER {deleted} AFTER DELETE ON {table} FOR EACH ROW WHEN ({gone}) {run}"
            )
        else:
            log = f"INSERT INTO account_changes (account_id) VALUES (OLD.{column});"
            left = left.replace("IS DISTINCT FROM", "IS NOT")
            out.append(
                f"CREATE TRIGGER {moved} AFTER UPDATE OF {column} ON {table} "
                f"FOR EACH ROW WHEN {left} BEGIN {log} END"
            )
            out.append(
                f"CREATE TRIGGER {deleted} AFTER DELETE ON {table} "
                f"FOR EACH ROW WHEN {gone} BEGIN {log} END"
            )
    return out


def drop_trigger_ddl(dialect: str) -> list[str]:
    """The statements dropping what `trigger_ddl` creates."""
    out: list[str] = []
    for table, _ in ACCOUNT_COLUMNS:
        for name in _names(table):
            on = f" ON {table}" if dialect == "postgresql" else ""
            out.append(f"DROP TRIGGER IF EXISTS {name}{on}")
    if dialect == "postgresql":
        for column in sorted({c for _, c in ACCOUNT_COLUMNS}):
            out.append(f"DROP FUNCTION IF EXISTS {_pg_function(column)}()")
    return out


def create_triggers(conn: Connection) -> None:
    for statement in trigger_ddl(conn.dialect.name):
        conn.exec_driver_sql(statement)


def drop_triggers(conn: Connection) -> None:
    for statement in drop_trigger_ddl(conn.dialect.name):
        conn.exec_driver_sql(statement)


@event.listens_for(Base.metadata, "after_create")
def _after_create(target: object, conn: Connection, **kw: object) -> None:
    """A schema built from the models (`create_all`) gets the triggers the migrations add."""
    created = {getattr(t, "name", None) for t in kw.get("tables") or ()}  # type: ignore[attr-defined]
    if {AccountChange.__tablename__, *(t for t, _ in ACCOUNT_COLUMNS)} <= created:
        drop_triggers(conn)
        create_triggers(conn)


@event.listens_for(Base.metadata, "before_drop")
def _before_drop(target: object, conn: Connection, **kw: object) -> None:
    drop_triggers(conn)
