"""Benchmark: the repeated-issue rule's book topic mix, counted whole vs from kept days.

On an existing database (e.g. one `bench incremental --database NAME` kept), in one
transaction that is rolled back at the end (the database is left as it was):

  whole        every ticket of the rule's window counted (what each read cost before
               `book_mix_days`, and what a read costs on an empty table)
  first kept   the same read through the kept days on an empty table: counts everything
               and stores the days
  unchanged    every day kept: the day digests, then the kept rows summed
  new tickets  `--new` tickets added today (as an hourly pull brings them): today re-counted

Each read is checked equal to the whole count. Run by hand:
  .venv/bin/python -m bench book_mix --url postgresql+psycopg://postgres@127.0.0.1/NAME
"""

from __future__ import annotations

import argparse
import datetime as dt
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from escalation import ticket_facts
from escalation.book_days import mix_settings
from escalation.book_norms import BookMix
from escalation.config import load_rules
from escalation.fact_models import end_of_day
from model.db import make_engine, make_session_factory
from model.tables import BookMixDay, Ticket


def _timed(fn: Callable[[], BookMix]) -> tuple[float, BookMix]:
    started = time.perf_counter()
    out = fn()
    return time.perf_counter() - started, out


def _add_tickets(session: Session, n: int, today: dt.datetime) -> None:
    """`n` tickets created today on accounts that have tickets, like an hourly pull's."""
    accounts = list(
        session.scalars(
            select(Ticket.account_id).where(Ticket.account_id.is_not(None)).distinct().limit(n)
        )
    )
    top = session.scalar(select(func.max(Ticket.helpdesk_id))) or 0
    for i in range(n):
        session.add(
            Ticket(
                source="zendesk", helpdesk_id=top + 1 + i, account_id=accounts[i % len(accounts)],
                subject=f"Export to CSV times out ({i % 7})", status="new", tags=["export"],
                created_at=today, updated_at=today,
            )
        )  # fmt: skip
    session.flush()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="SQLAlchemy URL of the database")
    parser.add_argument(
        "--as-of", type=dt.date.fromisoformat, default=dt.datetime.now(dt.UTC).date()
    )
    parser.add_argument("--new", type=int, default=200, help="tickets added today")
    args = parser.parse_args(argv)
    cfg = load_rules()
    repeat = cfg.rule("repeated_issue")
    end = end_of_day(args.as_of)
    start = end - dt.timedelta(days=repeat.window_days + repeat.baseline_days)
    engine = make_engine(args.url)
    with make_session_factory(engine)() as session:
        try:
            in_window = session.scalar(
                select(func.count()).where(Ticket.created_at >= start, Ticket.created_at < end)
            )
            print(
                f"{args.url.rsplit('/', 1)[-1]}: {in_window:,} tickets in the {start.date()}..{args.as_of} window"
            )
            session.execute(delete(BookMixDay).where(BookMixDay.settings == mix_settings(cfg)))
            rows: list[tuple[str, float, Any]] = []
            seconds, whole = _timed(lambda: ticket_facts.count_window(session, start, end, cfg))
            rows.append(("whole (every ticket of the window)", seconds, whole))
            for label in ("first kept (empty table: count, store)", "unchanged (all days kept)"):
                ticket_facts.clear_book_cache()
                seconds, mix = _timed(lambda: ticket_facts.book_mix(session, args.as_of, cfg))
                rows.append((label, seconds, mix == whole))
            today = dt.datetime.combine(args.as_of, dt.time(12), dt.UTC)
            _add_tickets(session, args.new, today)
            seconds, whole = _timed(lambda: ticket_facts.count_window(session, start, end, cfg))
            rows.append((f"whole, after {args.new} new tickets", seconds, whole))
            ticket_facts.clear_book_cache()
            seconds, mix = _timed(lambda: ticket_facts.book_mix(session, args.as_of, cfg))
            rows.append(
                (
                    f"kept days, after {args.new} new tickets (today re-counted)",
                    seconds,
                    mix == whole,
                )
            )
        finally:
            session.rollback()
    engine.dispose()
    print("| read | seconds | equal to the whole count |\n|---|---:|---|")
    for label, seconds, same in rows:
        print(f"| {label} | {seconds:.2f} | {'' if isinstance(same, tuple) else same} |")


if __name__ == "__main__":
    main()
