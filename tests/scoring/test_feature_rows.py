"""FeatureRows: training rows as numbers read back as the dicts they replace, and the fit on
them identical to the fit on plain dicts; history thinned to a row a week per account."""

from __future__ import annotations

import math
import random
from datetime import date, timedelta

import numpy as np
import pytest

from scoring import feature_rows
from scoring.feature_rows import FeatureRows
from scoring.fit import TrainingSet, _matrix, design, fit_risk
from scoring.risk_model import _number
from scoring.risk_store import weekly

NUMERIC = ["x", "noise", "sparse"]


def _rows(n: int, seed: int = 5) -> list[dict[str, object]]:
    rng = random.Random(seed)
    rows: list[dict[str, object]] = []
    for i in range(n):
        row: dict[str, object] = {"x": rng.gauss(0, 1), "noise": rng.gauss(0, 1), "extra": i}
        row["sparse"] = None if i % 3 else rng.choice([rng.gauss(5, 40), "7.5", True, "n/a"])
        row["plan"] = rng.choice(["gold", "silver", None, " gold "])
        rows.append(row)
    return rows


def _sets(n: int) -> tuple[TrainingSet, TrainingSet]:
    rng = random.Random(9)
    plain, packed = TrainingSet(), TrainingSet(features=FeatureRows(NUMERIC, ["plan"]))
    for acc, row in enumerate(_rows(n)):
        lost = rng.random() < 1 / (1 + math.exp(-(-1.5 + 2.0 * float(row["x"]))))  # type: ignore[arg-type]
        for ts in (plain, packed):
            ts.add(row, int(lost), acc, "SMB", acc)
            ts.outcomes += 1
            ts.lost += int(lost)
    return plain, packed


def test_rows_read_back_as_the_numbers_and_categories_the_fitter_reads(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(feature_rows, "BLOCK", 7)  # several blocks, the last one partial
    rows = _rows(30)
    packed = FeatureRows(NUMERIC, ["plan"])
    for row in rows:
        packed.append(row)
    assert len(packed) == 30 and len(list(packed)) == 30
    for row, back in zip(rows, packed, strict=True):
        assert set(back) == {*NUMERIC, "plan"}, "undeclared keys are dropped"
        for name in NUMERIC:
            assert back[name] == _number(row[name])
        assert (back["plan"] or "") == (str(row["plan"]).strip() if row["plan"] else "")
    assert packed[-1] == packed[29] and packed[2:4] == [packed[2], packed[3]]
    with pytest.raises(IndexError):
        packed[30]
    column = packed.numeric_column("sparse")
    assert column.shape == (30,) and np.isnan(column[1]) and column[3] == _number(rows[3]["sparse"])


def test_the_fit_on_feature_rows_equals_the_fit_on_dicts() -> None:
    plain, packed = _sets(400)
    a = fit_risk(plain, NUMERIC, ["plan"])
    b = fit_risk(packed, NUMERIC, ["plan"])
    model = design(packed, NUMERIC, ["plan"])
    assert np.array_equal(_matrix(model, plain.features), _matrix(model, packed.features))
    assert a.model.to_params() == b.model.to_params()
    assert a.oof == b.oof and a.metrics == b.metrics


def test_a_matrix_made_by_releasing_the_rows_block_by_block_equals_the_kept_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The refit drops each block of rows once the matrix holds it, so rows and matrix are
    never both whole in memory: the same numbers, and the rows are empty after."""
    monkeypatch.setattr(feature_rows, "BLOCK", 16)
    plain, packed = _sets(200)  # 12 full blocks and a part
    _, released = _sets(200)
    model = design(packed, NUMERIC, ["plan"])
    whole = _matrix(model, plain.features)
    assert np.array_equal(_matrix(model, packed.features), whole)
    assert np.array_equal(_matrix(model, released.features, release=True), whole)
    assert len(released.features) == 0 and list(released.features) == []
    assert len(packed.features) == 200, "a matrix made without release keeps the rows"


def test_a_fit_that_releases_its_feature_rows_fits_the_same_model() -> None:
    """The database refit lets go of the rows once the matrix holds them: the same model,
    and the training set keeps what the flag fit reads after it (keys, scores, labels)."""
    _, kept = _sets(400)
    _, released = _sets(400)
    a = fit_risk(kept, NUMERIC, ["plan"])
    b = fit_risk(released, NUMERIC, ["plan"], release_features=True)
    assert a.model.to_params() == b.model.to_params()
    assert a.oof == b.oof and a.metrics == b.metrics
    assert len(kept.features) == 400 and len(released.features) == 0
    assert released.keys == kept.keys and released.labels == kept.labels


def test_rows_cost_bytes_not_kilobytes() -> None:
    packed = FeatureRows([f"f{i}" for i in range(45)])
    for _ in range(10_000):
        packed.append({f"f{i}": float(i) for i in range(45)})
    assert packed.nbytes / len(packed) < 500  # a dict of 45 floats is ~4 KB


def test_daily_history_keeps_a_row_a_week_and_weekly_history_every_row() -> None:
    start = date(2026, 1, 1)
    daily = [start + timedelta(days=d) for d in range(30)]
    kept = [d for d, k in zip(daily, weekly(daily), strict=True) if k]
    assert [(d - start).days for d in kept] == [0, 7, 14, 21, 28, 29]  # the newest is kept
    weeks = [start + timedelta(days=7 * w) for w in range(10)]
    assert all(weekly(weeks))
    # a missed day: the row before the gap is kept rather than leave 8 days without one
    gappy = [start + timedelta(days=d) for d in (0, 1, 2, 3, 4, 5, 6, 8, 9)]
    assert [(d - start).days for d, k in zip(gappy, weekly(gappy), strict=True) if k] == [0, 6, 9]
    assert weekly([]) == []
