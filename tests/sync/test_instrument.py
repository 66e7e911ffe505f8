"""A run's step clock: a step entered again adds to its seconds instead of replacing them."""

from __future__ import annotations

import time

from sync.instrument import StepClock


def test_a_step_entered_again_adds_to_its_seconds() -> None:
    clock = StepClock()
    clock.start("scoring")
    time.sleep(0.02)
    clock.start("backfilling history")
    clock.start("backfilling history")  # the next week of the same step: its clock runs on
    time.sleep(0.05)
    clock.start("scoring")
    time.sleep(0.02)
    clock.stop()
    assert set(clock.steps) == {"scoring", "backfilling history"}
    assert clock.steps["backfilling history"]["seconds"] >= 0.05
    assert clock.steps["scoring"]["seconds"] >= 0.04  # both stretches, not the last one alone
