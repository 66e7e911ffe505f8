"""Benchmark: the whole-book pass of link propagation, row by row against set-based.

On a kept database (e.g. `bench incremental --phase first --database NAME`'s), each inside a
transaction that is rolled back, so the database is left as it was:

  reconcile    every row already points where it should (a nightly reconcile with nothing
               to change): the correlated lookup (`model/links.py _repoint` with
               `_linked_account`) against the join and anti-join (`_repoint_whole`)
  first sync   every ticket's and usage row's account cleared first (as a first sync finds
               them), then each form sets them all

    .venv/bin/python -m bench relink --database bench_incr_50k [--skip-first-sync | --only-first-sync]
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from model import links
from model.db import make_engine, make_session_factory
from model.tables import Ticket, UsageDaily


def row_by_row(session: Session, model: Any) -> None:
    links.repoint_every_row(session, model, set_based=False)


def set_based(session: Session, model: Any) -> None:
    links.repoint_every_row(session, model, set_based=True)


def timed(url: str, model: Any, form: Callable[[Session, Any], None], clear: bool) -> float:
    """Seconds `form` takes over every row of `model`, rolled back (after clearing every
    row's account first when `clear`)."""
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as session:
            if clear:
                session.execute(
                    update(model)
                    .values(account_id=None)
                    .execution_options(synchronize_session=False)
                )
            started = time.perf_counter()
            form(session, model)
            seconds = time.perf_counter() - started
            session.rollback()
    finally:
        engine.dispose()
    return round(seconds, 1)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench relink")
    parser.add_argument("--database", required=True, help="PostgreSQL database name, or a URL")
    parser.add_argument("--skip-first-sync", action="store_true")
    parser.add_argument("--only-first-sync", action="store_true")
    args = parser.parse_args(argv)
    url = args.database
    if "://" not in url:
        url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{url}"
    cases = [] if args.only_first_sync else [("reconcile", False)]
    cases += [] if args.skip_first_sync else [("first sync", True)]
    for case, clear in cases:
        for model in (Ticket, UsageDaily):
            for name, form in (("row by row", row_by_row), ("set-based", set_based)):
                seconds = timed(url, model, form, clear)
                row = {"case": case, "table": model.__tablename__, "form": name, "s": seconds}
                print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
