"""Benchmark: the repeated-issue rule's book topic mix, counted whole vs from kept days.

On an existing database (e.g. one `bench incremental --database NAME` kept), in one
transaction that is rolled back at the end (the database is left as it was):

  whole          every signature of every ticket of the rule's window (what a read cost
                 before `book_mix_days`, and what the mix held before it counted only the
                 signatures clusters carry)
  clusters       the signatures every account's clusters carry (`book_signatures`: one
                 streamed pass clustering each account's window tickets)
  first kept     those signatures through the kept days on an empty table: counts, stores
  unchanged      every day kept: the day digests, then the kept rows summed
  new signature  one more signature asked for: counted on the kept days in one narrowed read
  new tickets    `--new` tickets added today (as an hourly pull brings them): today re-counted

Each read is checked equal to the whole count's part it asks for. `--realistic` first gives
every ticket of the window a helpdesk-like subject (sandbox/subjects.py: mostly distinct, as a
real helpdesk's are; the sandbox repeats a dozen). `--trace` measures each step's peak of
Python allocations with tracemalloc (its times are then inflated). Run by hand:
  .venv/bin/python -m bench book_mix --url postgresql+psycopg://postgres@127.0.0.1/NAME \\
      [--realistic] [--trace]
"""

from __future__ import annotations

import argparse
import datetime as dt
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from escalation import book_counts, ticket_facts
from escalation.book_days import mix_settings
from escalation.book_norms import BookMix
from escalation.config import load_rules
from escalation.fact_models import end_of_day
from model.db import make_engine, make_session_factory
from model.tables import BookMixDay, Ticket
from sandbox.subjects import SubjectMaker


class Steps:
    def __init__(self, trace: bool) -> None:
        self.trace = trace
        self.rows: list[tuple[str, float, float | None, Any]] = []

    def run(self, label: str, fn: Callable[[], Any], check: Callable[[Any], Any] = repr) -> Any:
        if self.trace:
            tracemalloc.start()
        started = time.perf_counter()
        out = fn()
        seconds = time.perf_counter() - started
        peak = None
        if self.trace:
            peak = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()
        self.rows.append((label, seconds, peak, check(out)))
        return out

    def print(self) -> None:
        print("| step | seconds | peak MiB (tracemalloc) | result |\n|---|---:|---:|---|")
        for label, seconds, peak, result in self.rows:
            mib = "" if peak is None else f"{peak:.1f}"
            print(f"| {label} | {seconds:.2f} | {mib} | {result} |")


def _add_tickets(
    session: Session, n: int, today: dt.datetime, subjects: SubjectMaker | None
) -> None:
    """`n` tickets created today on accounts that have tickets, like an hourly pull's."""
    accounts = list(
        session.scalars(
            select(Ticket.account_id).where(Ticket.account_id.is_not(None)).distinct().limit(n)
        )
    )
    top = session.scalar(select(func.max(Ticket.helpdesk_id))) or 0
    for i in range(n):
        aid = accounts[i % len(accounts)]
        subject = (
            subjects.subject(aid, top + 1 + i) if subjects else f"Export to CSV times out ({i % 7})"
        )
        session.add(
            Ticket(
                source="zendesk", helpdesk_id=top + 1 + i, account_id=aid, subject=subject,
                status="new", tags=["export"], created_at=today, updated_at=today,
            )
        )  # fmt: skip
    session.flush()


def _realistic(session: Session, start: dt.datetime, end: dt.datetime, seed: int) -> int:
    """Give every ticket of [start, end) a helpdesk-like subject; returns how many."""
    maker = SubjectMaker(seed)
    rows = session.execute(
        select(Ticket.id, Ticket.account_id)
        .where(Ticket.created_at >= start, Ticket.created_at < end)
        .order_by(Ticket.id)
    ).all()
    for at in range(0, len(rows), 10_000):
        chunk = rows[at : at + 10_000]
        values = [{"id": i, "subject": maker.subject(a or 0, i)} for i, a in chunk]
        session.execute(update(Ticket), values)
    return len(rows)


def _part(whole: BookMix, keys: frozenset[str]) -> BookMix:
    return Counter({k: whole[0][k] for k in keys}), whole[1]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="SQLAlchemy URL of the database")
    parser.add_argument(
        "--as-of", type=dt.date.fromisoformat, default=dt.datetime.now(dt.UTC).date()
    )
    parser.add_argument("--new", type=int, default=200, help="tickets added today")
    parser.add_argument("--realistic", action="store_true", help="helpdesk-like subjects first")
    parser.add_argument("--seed", type=int, default=1, help="the realistic subjects' seed")
    parser.add_argument("--trace", action="store_true", help="each step's peak by tracemalloc")
    args = parser.parse_args(argv)
    cfg = load_rules()
    repeat = cfg.rule("repeated_issue")
    end = end_of_day(args.as_of)
    start = end - dt.timedelta(days=repeat.window_days + repeat.baseline_days)
    engine = make_engine(args.url)
    steps = Steps(args.trace)
    with make_session_factory(engine)() as session:
        try:
            in_window = session.scalar(
                select(func.count()).where(Ticket.created_at >= start, Ticket.created_at < end)
            )
            name = args.url.rsplit("/", 1)[-1]
            print(f"{name}: {in_window:,} tickets in the {start.date()}..{args.as_of} window")
            maker = SubjectMaker(args.seed) if args.realistic else None
            if args.realistic:
                print(
                    f"helpdesk-like subjects given to {_realistic(session, start, end, args.seed):,}"
                )
            session.execute(delete(BookMixDay).where(BookMixDay.settings == mix_settings(cfg)))
            whole = steps.run(
                "whole: every signature of the window",
                lambda: book_counts.count_window(session, start, end, cfg),
                lambda m: f"{len(m[0]):,} signatures, {m[1]:,} tickets",
            )
            keys = steps.run(
                "clusters: the signatures they carry",
                lambda: book_counts.book_signatures(session, end, cfg),
                lambda k: f"{len(k):,} signatures",
            )

            def equal(mix: BookMix) -> str:  # against the whole count and keys of the moment
                same = _part(mix, keys) == _part(whole, keys)
                return f"{len(mix[0]):,} signatures, equal to whole: {same}"

            for label in ("first kept (empty table: count, store)", "unchanged (all days kept)"):
                ticket_facts.clear_book_cache()
                steps.run(
                    label, lambda: ticket_facts.book_mix(session, args.as_of, cfg, keys), equal
                )
            # a new cluster's signature: the commonest word pair no cluster carried yet
            pairs = (k for k, _ in whole[0].most_common() if k.count("-") == 2)
            extra = next(k for k in pairs if k not in keys)
            keys = keys | {extra}
            ticket_facts.clear_book_cache()
            steps.run(
                f"new signature ({extra}: narrowed read of the kept days)",
                lambda: ticket_facts.book_mix(session, args.as_of, cfg, keys),
                equal,
            )
            today = dt.datetime.combine(args.as_of, dt.time(12), dt.UTC)
            _add_tickets(session, args.new, today, maker)
            whole = book_counts.count_window(session, start, end, cfg)
            ticket_facts.clear_book_cache()
            steps.run(
                f"after {args.new} new tickets (today re-counted)",
                lambda: ticket_facts.book_mix(session, args.as_of, cfg, keys),
                equal,
            )
        finally:
            session.rollback()
    engine.dispose()
    steps.print()


if __name__ == "__main__":
    main()
