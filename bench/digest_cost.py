"""Benchmark: what finding the changes costs, in process, on an existing database (nothing is
kept: every sample runs in a transaction that is rolled back).

Per sample: the inputs digest of every live account (`input_digests`, what every run did
before) against `book_digests` after a committed-like mark (what a later run of the day does
now), and identity resolution with `full_relink` (every identity matched, what every run did
before) against the incremental one after it. With `--changed F`, F of the accounts are
touched (their row's `updated_at`, the way a pull's upsert stamps a changed account) between
the two, so the incremental side recomputes them.

Run by hand, e.g. on the database `bench incremental --database NAME` kept:
  .venv/bin/python -m bench digest_cost --database-url postgresql+psycopg://postgres@127.0.0.1:5432/NAME \\
      [--changed 0.01] [--samples 3]
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from escalation.config import load_rules
from model.db import make_engine, make_session_factory
from model.identity import resolve_identities
from model.tables import Account, utcnow
from scoring.changes import active_model_key, book_digests, input_digests
from scoring.config import load_scorecard


def _timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    out = fn()
    return time.perf_counter() - started, out


def _touch(session: Session, share: float) -> int:
    """Stamp `share` of the live accounts as changed now (every n-th by id)."""
    ids = list(session.scalars(select(Account.id).where(Account.is_deleted.is_(False))))
    step = max(1, round(1 / share)) if share > 0 else 0
    chosen = ids[::step] if step else []
    for start in range(0, len(chosen), 900):
        session.execute(
            update(Account)
            .where(Account.id.in_(chosen[start : start + 900]))
            .values(updated_at=utcnow())
            .execution_options(synchronize_session=False)
        )
    return len(chosen)


def sample(url: str, changed: float) -> dict[str, Any]:
    engine = make_engine(url)
    card, rules = load_scorecard(), load_rules()
    extra = rules.model_dump_json()
    as_of = utcnow().date()
    out: dict[str, Any] = {}
    with make_session_factory(engine)() as s:
        try:
            key = active_model_key(s, card)
            out["digest_full_s"], (digests, _) = _timed(
                lambda: input_digests(s, as_of, card, key, extra=extra)
            )
            out["accounts"] = len(digests)
            out["identity_full_s"], _ = _timed(lambda: resolve_identities(s, full_relink=True))
            out["book_digests_full_s"], _ = _timed(
                lambda: book_digests(s, as_of, card, key, extra=extra, full=True)
            )
            out["touched"] = _touch(s, changed)
            out["digest_incremental_s"], book = _timed(
                lambda: book_digests(s, as_of, card, key, extra=extra)
            )
            out["digests_recomputed"] = book.recomputed
            out["identity_incremental_s"], _ = _timed(lambda: resolve_identities(s))
        finally:
            s.rollback()
    engine.dispose()
    return {k: round(v, 3) if isinstance(v, float) else v for k, v in out.items()}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench digest_cost")
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--changed", type=float, default=0.0, help="share of accounts touched")
    parser.add_argument("--samples", type=int, default=3)
    args = parser.parse_args(argv)
    rows = [sample(args.database_url, args.changed) for _ in range(args.samples)]
    for row in rows:
        print(json.dumps(row), flush=True)
    best = {k: min(r[k] for r in rows) for k in rows[0] if k.endswith("_s")}
    print(json.dumps({"best_of": args.samples, "changed": args.changed, **best}), flush=True)


if __name__ == "__main__":
    main()
