"""Renewal risk: features, prior model, logistic and isotonic calibration, levels and drivers."""

from __future__ import annotations

import math
import random
from pathlib import Path

import pytest

from scoring.config import load_scorecard, parse_scorecard
from scoring.renewal import (
    RenewalModel,
    describe_drivers,
    fit_isotonic,
    fit_learned,
    fit_logistic,
    model_for,
    risk_features,
    risk_level,
)

CARD = load_scorecard()


def test_features() -> None:
    x = risk_features(
        40.0, -20.0, {"days_to_renewal": 73, "arr_change_pct": -0.1, "expansion_pct": 0.2}
    )
    assert x == pytest.approx(
        {"health_gap": 0.6, "decline": 0.2, "renewal_near": 0.8, "contraction": 0.1}
    )
    assert risk_features(None, None, {}) is None
    assert risk_features(90.0, 5.0, {})["renewal_near"] == 0.0  # type: ignore[index]


def test_prior_ranks_lower_health_as_riskier_and_levels() -> None:
    model = model_for(CARD)
    assert model.source == "prior"
    ps = [model.predict(risk_features(s, 0, {}) or {}) for s in (90, 60, 30)]
    assert ps[0] < ps[1] < ps[2]
    assert risk_level(ps[0], CARD) == "low" and risk_level(ps[2], CARD) == "high"
    assert risk_level(0.3, CARD) == "medium"


def test_logistic_fit_recovers_a_known_model() -> None:
    rng = random.Random(3)
    xs, ys = [], []
    for _ in range(3000):
        x = {"health_gap": rng.random(), "decline": rng.random() * 0.3, "renewal_near": rng.random(),
             "contraction": 0.0}  # fmt: skip
        z = -3 + 4 * x["health_gap"] + 2 * x["decline"]
        xs.append(x)
        ys.append(1 if rng.random() < 1 / (1 + math.exp(-z)) else 0)
    model = fit_logistic(xs, ys, l2=0.0)
    assert model.intercept == pytest.approx(-3, abs=0.4)
    assert model.coefficients["health_gap"] == pytest.approx(4, abs=0.5)
    assert model.coefficients["renewal_near"] == pytest.approx(0, abs=0.4)


def test_isotonic_is_monotone_in_health_gap() -> None:
    xs = [{"health_gap": g / 10} for g in range(10)]
    ys = [0, 0, 1, 0, 0, 1, 0, 1, 1, 1]
    model = fit_isotonic(xs, ys)
    preds = [model.predict({"health_gap": g / 20}) for g in range(21)]
    assert preds == sorted(preds)
    assert preds[0] == 0 and preds[-1] == 1


def test_saved_model_round_trip_and_scorecard_file(tmp_path: Path) -> None:
    model = RenewalModel(intercept=-1.0, coefficients={"health_gap": 2.0}, source="fitted")
    path = tmp_path / "risk.json"
    path.write_text(model.to_json())
    raw = CARD.model_dump(mode="json")
    raw["risk"]["model_file"] = str(path)
    loaded = model_for(parse_scorecard(raw))
    assert loaded == model
    raw["risk"]["model_file"] = str(tmp_path / "missing.json")
    assert model_for(parse_scorecard(raw)).source == "prior"


def test_drivers_in_plain_words_largest_first() -> None:
    model = model_for(CARD)
    signals = {"days_to_renewal": 30, "arr_change_pct": -0.3}
    x = risk_features(35.0, -25.0, signals) or {}
    drivers = describe_drivers(model, x, signals, 35.0)
    assert drivers[0]["driver"] == "health_gap"
    pushes = [d["contribution"] for d in drivers]
    assert pushes == sorted(pushes, reverse=True)
    texts = " | ".join(d["text"] for d in drivers)
    assert "health score 35 of 100" in texts and "renewal within 30 days" in texts
    assert "health down 25 points in 28 days" in texts and "ARR contraction of 30%" in texts


def test_learned_model_uses_measure_gaps_and_names_them_as_drivers() -> None:
    rng = random.Random(5)
    xs, ys = [], []
    for _ in range(1500):
        gap = rng.random()
        x = (
            risk_features(80.0, 0.0, {"measure_scores": {"csat": 1 - gap, "dau_mau": rng.random()}})
            or {}
        )
        xs.append(x)
        ys.append(1 if rng.random() < 1 / (1 + math.exp(-(-4 + 6 * gap))) else 0)
    model = fit_learned(xs, ys)
    assert model.source == "learned" and "gap_csat" in model.coefficients
    assert model.coefficients["gap_csat"] > 3 > abs(model.coefficients["gap_dau_mau"])
    x = risk_features(80.0, 0.0, {"measure_scores": {"csat": 0.0, "dau_mau": 1.0}}) or {}
    assert model.predict(x) > 0.7
    assert describe_drivers(model, x, {}, 80.0)[0]["text"] == "weak csat"
