"""The world's own predictability: the drivers together rank churn, none of them alone does."""

from __future__ import annotations

from bench.world_ceiling import ceilings


def test_drivers_rank_churn_together_and_none_alone() -> None:
    got = ceilings(2000, seed=3)
    alone = {k: v for k, v in got.items() if k.endswith(" alone")}
    assert set(alone) == {
        "decline alone", "friction alone", "budget_cut alone", "acquired alone",
        "champion_left alone", "engagement alone",
    }  # fmt: skip
    assert 0.15 < (got["lost share"] or 0) < 0.3
    every, visible = got["all drivers"] or 0, got["visible drivers"] or 0
    assert 0.85 < every < 0.97, "a noisy outcome, not a planted one"
    assert every - 0.08 < visible < every, "invisible drivers (budget cut, acquisition) cost rank"
    assert all(0.5 < (v or 0) < 0.78 for v in alone.values()), alone
