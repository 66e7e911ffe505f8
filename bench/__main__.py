"""`python -m bench NAME [ARGS]`: run bench/NAME.py's main() with the remaining arguments."""

from __future__ import annotations

import importlib
import sys


def run() -> None:
    if len(sys.argv) < 2 or sys.argv[1].startswith("-"):
        sys.exit(
            "usage: python -m bench NAME [ARGS...]  (NAME: a module in bench/: pipeline, efficiency, connectors, freshness, scoring, sandbox_gen, taps, resend, daywave, honest_score, public_churn, world_ceiling, scorecard_weights, equivalence, incremental, digest_cost, ops_stages, distributed, training_memory, book_mix, upsert, risk_variants, relink, trust_audit)"
        )
    importlib.import_module(f"bench.{sys.argv[1]}").main(sys.argv[2:])


if __name__ == "__main__":
    run()
