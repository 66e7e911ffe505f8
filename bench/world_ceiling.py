"""Benchmark: how predictable is the sandbox world's churn, before any signal is computed?

Draws accounts' fates (`sandbox.gen_fate.draw_fate`) and ranks every decided renewal by the
drivers' own log-odds (`driver_log_odds`, without the decision's noise and draw): all of
them, only the ones data can show (decline, friction, engagement, a champion departure the CRM
recorded), and each alone. No score or fitted model can beat the first line on this world;
the second is what a perfect reader of the visible drivers would reach.

Run by hand:  .venv/bin/python -m bench world_ceiling [--accounts 8000] [--seed 7]
"""

from __future__ import annotations

import argparse
import datetime as dt
import random

from sandbox.gen_fate import draw_fate, driver_log_odds
from scoring import metrics

VISIBLE = ("decline", "friction", "engagement")


def visible_log_odds(parts: dict[str, float], champion_recorded: bool) -> float:
    """The drivers' push the data can show: a champion departure only if the CRM recorded it."""
    return sum(parts[k] for k in VISIBLE) + (parts["champion_left"] if champion_recorded else 0.0)


def ceilings(accounts: int, seed: int) -> dict[str, float | None]:
    """AUC of lost vs won renewals under each ranking (see the module doc)."""
    rng = random.Random(seed)
    today = dt.date(2026, 12, 1).toordinal()
    rows: list[tuple[dict[str, float], bool, bool]] = []
    for _ in range(accounts):
        fate = draw_fate(rng, today)
        for day, lost in fate.decisions:
            rows.append((driver_log_odds(fate, day), fate.champion_recorded, lost))
    labels = [int(lost) for _, _, lost in rows]
    out: dict[str, float | None] = {"lost share": sum(labels) / len(labels)}
    out["all drivers"] = metrics.roc_auc([sum(p.values()) for p, _, _ in rows], labels)
    visible = [visible_log_odds(p, recorded) for p, recorded, _ in rows]
    out["visible drivers"] = metrics.roc_auc(visible, labels)
    for name in rows[0][0]:
        out[f"{name} alone"] = metrics.roc_auc([p[name] for p, _, _ in rows], labels)
    return out


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench world_ceiling")
    parser.add_argument("--accounts", type=int, default=8000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    for name, value in ceilings(args.accounts, args.seed).items():
        print(f"{name:<22} {'-' if value is None else f'{value:.3f}'}")
