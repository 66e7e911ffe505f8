"""What the write-back plan reads of the newest snapshots (sync/writeback_rows.py)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from scoring.health import BAND_CUTOFFS_KEY, NEAR_REASONS_KEY
from scoring.risk_model import NEAR_DRIVERS
from sync.writeback_rows import PlanSnapshot, snapshot_batches
from tests.sync.factories import NOW, account, snapshot


def test_snapshot_batches_read_the_written_values_and_only_the_signals_the_plan_uses(
    any_session: Session,
) -> None:
    s = any_session
    accounts = [account(n) for n in range(5)]
    s.add_all(accounts)
    s.flush()
    near = [{"driver": "csat", "contribution": 0.2, "text": "CSAT 60% good over 180 days"}]
    signals = {
        "arr": 1200.0,
        "measure_scores": {"csat": 0.5},
        NEAR_REASONS_KEY: ["2 logins per active user a day (healthy: 3 or more)"],
        NEAR_DRIVERS: near,
        BAND_CUTOFFS_KEY: {"red_below": 58.7, "green_at": 70.1},
    }
    s.add_all(snapshot(a.id, score=50.0 + a.id, signals=signals) for a in accounts[:4])
    s.add(snapshot(accounts[4].id, signals={"arr": 5.0, NEAR_REASONS_KEY: None}))
    s.add(snapshot(accounts[0].id, as_of=NOW.date().replace(day=2)))  # another day: not read
    s.flush()
    batches = list(snapshot_batches(s, NOW.date(), None, chunk_size=2))
    assert [[p.account_id for p in b] for b in batches] == [
        [a.id for a in accounts[:2]], [a.id for a in accounts[2:4]], [accounts[4].id]
    ]  # fmt: skip
    first = batches[0][0]
    assert first == PlanSnapshot(
        accounts[0].id, 50.0 + accounts[0].id, "red", -5.0,
        [{"text": "active users down 42% vs 90-day baseline"}], 0.62, "high",
        [{"text": "renewal in 40 days"}],
        {k: signals[k] for k in (NEAR_REASONS_KEY, NEAR_DRIVERS, BAND_CUTOFFS_KEY)},
    )  # fmt: skip
    assert batches[-1][0].signals == {}  # keys absent or null are left out
    scoped = list(snapshot_batches(s, NOW.date(), [accounts[3].id, accounts[1].id], 10))
    assert [p.account_id for b in scoped for p in b] == [accounts[1].id, accounts[3].id]
