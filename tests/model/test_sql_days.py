"""A stored datetime's UTC day in SQL, whatever the PostgreSQL session's time zone."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from model.sql_days import as_date, utc_day
from model.tables import Ticket
from tests.sync.factories import ticket


def test_the_utc_day_not_the_sessions(any_session: Session) -> None:
    if any_session.get_bind().dialect.name == "postgresql":
        any_session.execute(text("SET TIME ZONE 'America/New_York'"))  # UTC-5 in December
    for n, hour in enumerate((2, 23)):
        t = ticket(n + 1, None)
        t.created_at = t.updated_at = dt.datetime(2026, 12, 5, hour, 30, tzinfo=dt.UTC)
        any_session.add(t)
    any_session.flush()
    days = any_session.scalars(select(utc_day(any_session, Ticket.created_at)).order_by(Ticket.id))
    assert [as_date(d) for d in days] == [dt.date(2026, 12, 5)] * 2


def test_as_date_reads_either_database() -> None:
    day = dt.date(2026, 12, 5)
    assert as_date("2026-12-05") == as_date(day) == as_date(dt.datetime(2026, 12, 5, 23)) == day
