"""SQL for the warehouse connector: a stream's rows as a subquery named by field, keyset
pages over it, cursor values kept in JSON state, and database errors classified.

Every statement is `SELECT * FROM (<table columns or the query>) AS q WHERE ... ORDER BY
... LIMIT n`, built with SQLAlchemy Core so each dialect renders its own LIMIT and quoting.
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    Subquery,
    and_,
    column,
    literal_column,
    or_,
    select,
    table,
    text,
)
from sqlalchemy import exc as sa_exc

from connectors.errors import ConnectorError, Fatal, Retriable
from connectors.warehouse.options import StreamSource

# Identifiers a warehouse may hold as numbers; the records take them as text.
ID_FIELDS = frozenset({"id", "workspace_id", "distinct_id", "insert_id", "crm_account_id"})


def rows_of(source: StreamSource, fields: Sequence[str]) -> Subquery:
    """The stream's rows with columns named as the record fields (`fields`: those the
    statement refers to; a query's other columns are read too)."""
    if source.query is not None:
        return text(source.query).columns(*(column(f) for f in fields)).subquery("q")
    assert source.table is not None
    schema, _, name = source.table.rpartition(".")
    tbl = table(name, *(column(c) for c in source.columns.values()), schema=schema or None)
    labelled = [tbl.c[c].label(f) for f, c in source.columns.items()]
    return select(*labelled).select_from(tbl).subquery("q")


def page_query(
    rows: Subquery,
    order: Sequence[str],
    *,
    after: Sequence[Any] | None,
    bounds: Sequence[tuple[str, Any]] = (),
    limit: int | None = None,
) -> Select[Any]:
    """Rows in `order` past the keyset `after`, each `(field, value)` bound inclusive; rows
    with a null ordering column are not read (a keyset cannot resume past them)."""
    keys = [rows.c[f] for f in order]
    where: list[ColumnElement[bool]] = [k.is_not(None) for k in keys]
    where += [rows.c[f] >= value for f, value in bounds]
    if after is not None:
        where.append(keyset_after(keys, after))
    stmt: Select[Any] = select(literal_column("*")).select_from(rows).where(*where)
    stmt = stmt.order_by(*keys)
    return stmt.limit(limit) if limit is not None else stmt


def keyset_after(keys: Sequence[Any], values: Sequence[Any]) -> ColumnElement[bool]:
    """(k1, k2, ...) > (v1, v2, ...), spelled out (not every dialect compares row values)."""
    condition: ColumnElement[bool] = keys[-1] > values[-1]
    for key, value in zip(reversed(keys[:-1]), reversed(values[:-1]), strict=True):
        condition = or_(key > value, and_(key == value, condition))
    return condition


def record_row(row: Any) -> dict[str, Any]:
    """A result row as the record's input: keys lower-cased, numeric identifiers as text."""
    out: dict[str, Any] = {}
    for key, value in row._mapping.items():
        name = str(key).lower()
        numeric = isinstance(value, int | decimal.Decimal) and not isinstance(value, bool)
        out[name] = str(value) if name in ID_FIELDS and numeric else value
    return out


def encode(value: Any) -> Any:
    """A column value as JSON, its type kept so it binds back as it was read."""
    if isinstance(value, dt.datetime):
        return {"datetime": value.isoformat()}
    if isinstance(value, dt.date):
        return {"date": value.isoformat()}
    if isinstance(value, decimal.Decimal):
        return {"decimal": str(value)}
    return value


def decode(value: Any) -> Any:
    if isinstance(value, dict):
        kind, raw = next(iter(value.items()))
        if kind == "datetime":
            return dt.datetime.fromisoformat(raw)
        if kind == "date":
            return dt.date.fromisoformat(raw)
        return decimal.Decimal(raw)
    return value


def day_of(value: Any) -> dt.date | None:
    """The UTC day of a cursor value read from the database (a date, a timestamp or their
    ISO text); None when it is neither."""
    if isinstance(value, dt.datetime):
        return (value.astimezone(dt.UTC) if value.tzinfo else value).date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return day_of(dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00")))
        except ValueError:
            return None
    return None


def classify_db_error(exc: sa_exc.SQLAlchemyError) -> ConnectorError:
    """A lost or refused connection may pass; a bad statement, table or column will not."""
    detail = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    message = detail[0] if detail else type(exc).__name__
    transient = (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.TimeoutError)
    # SQLite reports a missing table or column and bad syntax as OperationalError too
    wrong = any(words in message for words in ("no such table", "no such column", "syntax"))
    if isinstance(exc, transient) and not wrong:
        return Retriable(message, code=type(exc).__name__)
    return Fatal(message, code=type(exc).__name__)
