"""bench risk_variants compares model classes on tuning worlds only."""

from __future__ import annotations

import pytest

from bench import risk_variants


def test_held_out_seeds_are_refused_before_any_world_is_built(capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        risk_variants.main(["--seeds", "99-101"])
    assert exc.value.code == 2
    assert "held out" in capsys.readouterr().err


def test_seed_ranges() -> None:
    assert risk_variants.seeds_of("1-5") == [1, 2, 3, 4, 5]
    assert risk_variants.seeds_of("7") == [7]
