"""Audit and fit on any table: label encodings, the map, errors that say why, figures equal sklearn's."""

from __future__ import annotations

import json
import math
import random
from pathlib import Path

import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score
from typer.testing import CliRunner

from scoring import metrics
from scoring.config import load_scorecard
from scoring.table import TableError, load_map, read_table
from scoring.table_audit import audit_table, calibration, discrimination, fit_table

CARD = load_scorecard()


def _table(tmp_path: Path, encoding: tuple[str, str] = ("1", "0"), rows: int = 400) -> Path:
    """A churn table: plan (categorical), tenure and a score that both carry signal, dates."""
    rng = random.Random(11)
    lines = ["id,plan,tenure,health,seg,scored_on,left_on,churn"]
    for i in range(rows):
        plan = rng.choice(["monthly", "annual"])
        tenure = rng.randint(1, 60)
        z = -1.0 + (1.2 if plan == "monthly" else -0.8) - 0.04 * tenure + rng.gauss(0, 0.5)
        lost = rng.random() < 1 / (1 + math.exp(-z))
        health = round(60 - 15 * z + rng.gauss(0, 10), 1)
        left = f"2025-0{rng.randint(3, 9)}-15" if lost else ""
        label = encoding[0] if lost else encoding[1]
        lines.append(f"c{i},{plan},{tenure},{health},{rng.choice('AB')},2025-01-01,{left},{label}")
    path = tmp_path / "churn.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def _map(tmp_path: Path, extra: str = "") -> Path:
    path = tmp_path / "map.yaml"
    path.write_text(
        "label: churn\nid: id\nsegment: seg\nscore: {column: health}\n"
        "numeric: [tenure]\ncategorical: [plan]\n"
        "dates: {snapshot: scored_on, churned_on: left_on}\n" + extra
    )
    return path


@pytest.mark.parametrize(
    "encoding",
    [("1", "0"), ("1.0", "0.0"), ("yes", "no"), ("True", "False"), ("churned", "retained")],
)
def test_label_encodings_read_alike(tmp_path: Path, encoding: tuple[str, str]) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    table = read_table(_table(tmp_path / "a", encoding), load_map(_map(tmp_path)))
    plain = read_table(_table(tmp_path / "b", ("1", "0")), load_map(_map(tmp_path)))
    assert table.labels == plain.labels and 0 < sum(table.labels) < len(table.labels)


def test_bad_label_and_unknown_column_name_the_row_and_the_fix(tmp_path: Path) -> None:
    path = _table(tmp_path)
    path.write_text(path.read_text().replace(",0\n", ",maybe\n", 1))
    with pytest.raises(TableError, match=r"churn.csv:\d+: label churn='maybe'.*churned_values"):
        read_table(path, load_map(_map(tmp_path)))
    typo = tmp_path / "typo.yaml"
    typo.write_text("label: churn\nnumeric: [tenur]\n")
    with pytest.raises(TableError, match=r"no column 'tenur'.*columns are: id, plan"):
        read_table(_table(tmp_path), load_map(typo))


def test_audit_figures_equal_scikit_learns(tmp_path: Path) -> None:
    m = load_map(_map(tmp_path))
    table = read_table(_table(tmp_path), m)
    report = audit_table(table, m, CARD, bootstrap_rounds=0)
    risk = [s for s in table.scores if s is not None]
    assert report["score"]["roc_auc"] == pytest.approx(roc_auc_score(table.labels, risk), abs=5e-4)
    assert report["score"]["pr_auc"] == pytest.approx(
        average_precision_score(table.labels, risk), abs=5e-4
    )
    fitted = fit_table(table, m)
    assert fitted is not None
    probs = fitted["_oof"]
    cal = calibration(probs, table.labels, table.segments)
    assert cal["brier"] == pytest.approx(brier_score_loss(table.labels, probs), abs=5e-4)
    logit = [[math.log(p / (1 - p))] for p in probs]
    line = LogisticRegression(C=1e6, max_iter=1000).fit(logit, table.labels)
    assert cal["calibration_slope"] == pytest.approx(line.coef_[0][0], abs=5e-4)
    d = discrimination(probs, table.labels, 0)
    assert d["roc_auc"] == pytest.approx(roc_auc_score(table.labels, probs), abs=5e-4)
    fr = report["fitted_risk"]
    assert fr["roc_auc"] == pytest.approx(d["roc_auc"], abs=5e-4)
    assert fr["cv"]["cv_auc"] > 0.7 and fr["baseline_logistic_auc"] > 0.7
    assert fr["brier"] < fr["base_rate_brier"]
    assert set(fr["per_segment"]) == {"A", "B"}
    lead = report["lead_time"]
    assert lead["available"] and lead["30d"] >= lead["60d"] >= lead["90d"]


def test_tie_aware_lift_does_not_depend_on_row_order() -> None:
    labels = [1, 0, 0, 1, 0, 0, 0, 0, 0, 0]
    assert metrics.lift_at([0.5] * 10, labels, 0.1) == pytest.approx(1.0)
    assert metrics.lift_at([0.5] * 10, list(reversed(labels)), 0.1) == pytest.approx(1.0)


def test_zero_rows_scored_is_an_error_that_says_why(tmp_path: Path) -> None:
    thin = tmp_path / "thin.yaml"
    thin.write_text("label: churn\nsignals: {csat: health}\n")
    m = load_map(thin)
    report = audit_table(read_table(_table(tmp_path), m), m, CARD, bootstrap_rounds=0)
    assert "score" not in report, "csat alone is too little of the scorecard to score a row"
    assert report["fitted_risk"]["cv"]["rows"] == 400, "but the risk model fits on it"
    bare = tmp_path / "bare.yaml"
    bare.write_text("label: churn\n")
    m = load_map(bare)
    with pytest.raises(TableError, match=r"0 of 400 rows scored — the map names no score column"):
        audit_table(read_table(_table(tmp_path), m), m, CARD, bootstrap_rounds=0)
    with pytest.raises(TableError, match=r"signals\.health_score: not a pulsehub signal"):
        bad = tmp_path / "sig.yaml"
        bad.write_text("label: churn\nsignals: {health_score: health}\n")
        load_map(bad)


def test_cli_audit_and_fit_on_a_table(tmp_path: Path) -> None:
    from pulsehub.commands.score import app

    runner = CliRunner()
    csv, mp = str(_table(tmp_path)), str(_map(tmp_path))
    shown = runner.invoke(app, ["audit", "--csv", csv, "--map", mp, "--bootstrap", "20"])
    assert shown.exit_code == 0, shown.output
    assert "baseline logistic" in shown.output and "calibration" in shown.output
    as_json = runner.invoke(app, ["audit", "--csv", csv, "--map", mp, "--json", "--bootstrap", "0"])
    assert json.loads(as_json.output)["rows"] == 400
    fitted = runner.invoke(app, ["fit", "--csv", csv, "--map", mp])
    body = json.loads(fitted.output)
    assert fitted.exit_code == 0 and body["cv"]["cv_auc"] > 0.7 and "baseline_logistic_auc" in body
    no_map = runner.invoke(app, ["audit", "--csv", csv])
    assert no_map.exit_code == 2 and "--map" in no_map.output
    bare = tmp_path / "bare.yaml"
    bare.write_text("label: churn\n")
    zero = runner.invoke(app, ["audit", "--csv", csv, "--map", str(bare)])
    assert zero.exit_code == 2 and "0 of 400 rows scored" in zero.output
