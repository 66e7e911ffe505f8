"""The UTC calendar day of a stored datetime, in SQL, on SQLite and PostgreSQL alike.

PostgreSQL's `date(timestamptz)` answers in the session's time zone (a server set to
America/New_York files a ticket of 02:00 UTC under the day before); SQLite keeps UTC text.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement


def utc_day(session: Session, column: Any) -> ColumnElement[Any]:
    """`column`'s UTC day: a date on PostgreSQL, 'YYYY-MM-DD' text on SQLite (`as_date`)."""
    if session.get_bind().dialect.name == "postgresql":
        return func.date(func.timezone("UTC", column))
    return func.date(column)


def as_date(value: Any) -> dt.date:
    """A `utc_day` value as a date, whichever database returned it (SQLite: text)."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])
