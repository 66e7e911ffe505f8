"""Benchmark: storing a pull's rows, `model.upsert.upsert_rows`, on SQLite or PostgreSQL.

`--rows` synthetic tickets (every column of the model's Ticket, a third of them lacking the
defaulted columns, as pages do) upserted in pages of `--page`: into an empty table (insert),
again with one column changed (update), and again unchanged (the overlap a re-read brings).
`--sqlalchemy` stores through SQLAlchemy's own parameter handling instead of the SQLite
driver path, to compare the two on one machine. On PostgreSQL the run is rolled back.

Run by hand:  .venv/bin/python -m bench upsert [--rows 20000] [--sqlalchemy] [--url URL]
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import delete
from sqlalchemy.orm import Session

from model import upsert
from model.db import make_engine, upgrade
from model.tables import Ticket

KEY = ["source", "helpdesk_id"]
START = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)


def ticket_row(n: int) -> dict[str, Any]:
    row: dict[str, Any] = {
        "source": "zendesk",
        "helpdesk_id": n,
        "helpdesk_org_id": 1000 + n % 500,
        "subject": f"Export fails for report {n % 97}",
        "status": "open",
        "priority": "normal",
        "type": "incident",
        "requester_id": 50_000 + n % 800,
        "external_id": None,
        "first_reply_minutes": n * 0.5,
        "full_resolution_minutes": None,
        "reopens": n % 3,
        "replies": n % 7,
        "csat": None,
    }
    if n % 3:  # two pages in three carry the defaulted columns too
        row["tags"] = ["export", f"tier_{n % 4}"]
    for column in Ticket.__table__.c:
        fresh = column.name not in row and column.name not in ("id", "account_id", "tags")
        if fresh and str(column.type).upper().startswith(("DATETIME", "TIMESTAMP")):
            row[column.name] = START + dt.timedelta(minutes=n)
    return row


def _store(session: Session, rows: list[dict[str, Any]], page: int) -> None:
    for start in range(0, len(rows), page):
        upsert.upsert_rows(
            session,
            Ticket.__table__,
            rows[start : start + page],
            key=KEY,
            reset_on_change={"account_id": "helpdesk_org_id"},
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--page", type=int, default=1000)
    parser.add_argument("--url", help="a database (default: a new SQLite file)")
    parser.add_argument("--sqlalchemy", action="store_true", help="no SQLite driver path")
    args = parser.parse_args(argv)
    if args.sqlalchemy:
        upsert._driver_plan = lambda *a: None  # type: ignore[assignment]
    with tempfile.TemporaryDirectory() as tmp:
        url = args.url or f"sqlite:///{Path(tmp) / 'upsert.db'}"
        upgrade(url)
        engine = make_engine(url)
        rows = [ticket_row(n) for n in range(args.rows)]
        changed = [{**r, "status": "pending"} for r in rows]
        path = (
            "driver path"
            if engine.dialect.name == "sqlite" and not args.sqlalchemy
            else "SQLAlchemy parameters"
        )
        print(f"{args.rows:,} tickets in pages of {args.page}, {engine.dialect.name}, {path}")
        with Session(engine) as session:
            session.execute(delete(Ticket))
            for label, batch in (("insert", rows), ("update", changed), ("unchanged", changed)):
                started = time.perf_counter()
                _store(session, batch, args.page)
                session.flush()
                seconds = time.perf_counter() - started
                print(f"  {label:<10} {seconds:6.2f} s  {args.rows / seconds:>9,.0f} rows/s")
            if args.url:
                session.rollback()
            else:
                session.commit()
        engine.dispose()


if __name__ == "__main__":
    main()
