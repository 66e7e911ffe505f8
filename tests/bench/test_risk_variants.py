"""bench risk_variants compares model classes on tuning worlds only."""

from __future__ import annotations

import pytest

from bench import risk_variants
from bench.honest_score import parse_seeds


def test_held_out_seeds_are_refused_before_any_world_is_built(capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        risk_variants.main(["--seeds", "99-101"])
    assert exc.value.code == 2
    assert "held out" in capsys.readouterr().err


def test_seed_ranges_and_lists() -> None:
    assert parse_seeds("1-5") == [1, 2, 3, 4, 5]
    assert parse_seeds("7") == [7]
    assert parse_seeds("1,3") == [1, 3]
