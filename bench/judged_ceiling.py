"""How well could anything rank the renewals `bench honest_score` judges? The world's answer.

`bench world_ceiling` ranks every renewal a drawn world decides; the honest-score bench judges
a narrower sample: each account once, on its snapshot `min_lead_days` before a renewal decided
within the synced history. Which accounts land in it, and so how separable they are, varies
from world to world by more than the targets' margins. This module ranks that same judged
sample by the world's own drivers, so a fitted model's AUC can be read against what a perfect
reader of the data would reach on the same renewals:

- `visible`: the log-odds of the drivers the data can show (decline 30 days before the
  decision, support friction, engagement, a champion departure the CRM recorded) — exact,
  with the generator's own weights, which no fit knows;
- `all`: every driver, budget cuts and acquisitions included (what no data can reach).

Neither adds the decision's N(0, 0.5) noise or its draw, so both are upper bounds.

The world is generated again from its seed and the moment it was first generated at
(`bench.world_history.world_anchor`: the generator's draws depend on the hour, not only the
day), and each judged label is checked against the regenerated world's lost renewals. A label
it does not reproduce is left out and counted (none on seeds 1-5, 151-170); more than
`MAX_UNMATCHED` of the sample means the world was not reproduced, and no ceiling is given.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bench.world_ceiling import visible_log_odds
from model.tables import Account
from sandbox.gen_fate import Fate, driver_log_odds
from sandbox.generate import build_world
from scoring import metrics
from scoring.backtest import Sample

MAX_UNMATCHED = 0.05


def judged_ceiling(
    session: Session,
    accounts: int,
    seed: int,
    judged: Sequence[Sample],
    anchor: dt.datetime | None,
) -> dict[str, Any]:
    """The judged sample's AUC under the world's visible and all drivers, and how many judged
    renewals were left out (see the module doc); `{"error": ...}` when the regenerated world
    does not reproduce the judged labels."""
    if anchor is None:
        return {"error": "the database was never synced: no world to regenerate"}
    world = build_world(accounts, seed, now=anchor)
    drivers, churned = world.truth["drivers"], world.truth["churned"]
    crm: dict[int, str | None] = dict(session.execute(select(Account.id, Account.crm_id)).all())
    visible, every, labels, mismatched = [], [], [], 0
    for s in judged:
        cid, day = crm.get(s.account_id), s.decided_on
        if cid is None or cid not in drivers or day is None:
            mismatched += 1
            continue
        lost_on = churned.get(cid)
        if bool(s.churned) != (lost_on == day):
            mismatched += 1
            continue
        fate = _fate(world.trajectories[cid], drivers[cid])
        parts = driver_log_odds(fate, day.toordinal())
        visible.append(visible_log_odds(parts, fate.champion_recorded))
        every.append(sum(parts.values()))
        labels.append(int(s.churned))
    if mismatched > MAX_UNMATCHED * len(judged):
        return {
            "error": f"{mismatched} of {len(judged)} judged renewals not in the regenerated world"
        }
    return {
        "visible": metrics.roc_auc(visible, labels),
        "all": metrics.roc_auc(every, labels),
        "unmatched": mismatched,
    }


def _fate(trajectory: Any, drivers: dict[str, Any]) -> Fate:
    """The parts of an account's fate `driver_log_odds` reads, from the world's truth."""

    def day(value: dt.date | None) -> int | None:
        return None if value is None else value.toordinal()

    return Fate(
        trajectory, since=trajectory.start_day, next_renewal=0,
        budget_cut=day(drivers["budget_cut"]), acquired=day(drivers["acquired"]),
        champion_left=day(drivers["champion_left"]),
        champion_recorded=bool(drivers["champion_recorded"]),
    )  # fmt: skip
