"""A data export: everything pulsehub holds about one account, as one JSON document.

The document's schema is generated from the model itself (one row model per table, its
columns typed and nullable as stored, nothing else allowed), so a table added later is in
the export and its schema without being listed here. `export_schema()` is what
`pulsehub data schema` prints; `build_export` validates the document against it before it
is returned.
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model
from sqlalchemy import JSON, Column, Table, select
from sqlalchemy.orm import Session

from model.account_rows import account_keys, account_tables
from model.orm import Base
from model.tables import Account, DataRequest

FORMAT = "pulsehub.account-export/1"
FormatName = Literal["pulsehub.account-export/1"]
# bookkeeping about runs, not about any account (`account_changes` and `inputs_digests`
# hold only account ids and digests of what is exported elsewhere: scoring/digest_marks.py)
NOT_EXPORTED = frozenset(
    {"sync_runs", "sync_cursors", "erased_keys", "source_metadata", "risk_models"}
    | {"account_changes", "inputs_digests"}
)


class AccountNotFound(LookupError):
    pass


def _python_type(column: Column[Any]) -> Any:
    if isinstance(column.type, JSON):
        return Any
    try:
        kind: Any = column.type.python_type
    except NotImplementedError:
        return Any
    return kind | None if column.nullable else kind


def _row_model(table: Table) -> type[BaseModel]:
    fields: dict[str, Any] = {col.name: (_python_type(col), ...) for col in table.columns}
    return create_model(  # type: ignore[call-overload, no-any-return]
        f"{table.name.title().replace('_', '')}Row",
        __config__=ConfigDict(extra="forbid"),
        **fields,
    )


def exported_tables() -> list[Table]:
    return [t for t in Base.metadata.sorted_tables if t.name not in NOT_EXPORTED]


@functools.cache
def export_model() -> type[BaseModel]:
    """The export document's model: format, when, the account, and rows per table."""
    per_table: dict[str, Any] = {
        t.name: (list.__class_getitem__(_row_model(t)), Field(default_factory=list))
        for t in exported_tables()
    }
    tables_model: Any = create_model(  # type: ignore[call-overload]
        "ExportTables", __config__=ConfigDict(extra="forbid"), **per_table
    )
    document: dict[str, Any] = {
        "format": (FormatName, ...),
        "exported_at": (dt.datetime, ...),
        "account_id": (int, ...),
        "tables": (tables_model, ...),
    }
    return create_model(  # type: ignore[call-overload, no-any-return]
        "AccountExport", __config__=ConfigDict(extra="forbid"), **document
    )


def export_schema() -> dict[str, Any]:
    """The JSON Schema every export validates against."""
    return export_model().model_json_schema()


def build_export(session: Session, account_id: int) -> dict[str, Any]:
    """Every row about `account_id`, per table, as a JSON-ready dict (validated)."""
    if session.get(Account, account_id) is None:
        raise AccountNotFound(f"no account {account_id}")
    keys = account_keys(session, account_id)
    tables: dict[str, list[dict[str, Any]]] = {}
    wanted = {t.name for t in exported_tables()}
    for table, where in account_tables(keys):
        if table.name not in wanted:
            continue
        order = list(table.primary_key.columns)
        rows = [
            dict(r._mapping) for r in session.execute(select(table).where(where).order_by(*order))
        ]
        if rows:
            tables[table.name] = rows
    document = export_model().model_validate(
        {
            "format": FORMAT,
            "exported_at": dt.datetime.now(dt.UTC),
            "account_id": account_id,
            "tables": dict(sorted(tables.items())),
        }
    )
    return document.model_dump(mode="json", exclude_defaults=False)


def recent_data_requests(session: Session, limit: int = 50) -> list[DataRequest]:
    """The audit trail of data requests, newest first."""
    return list(session.scalars(select(DataRequest).order_by(DataRequest.id.desc()).limit(limit)))
