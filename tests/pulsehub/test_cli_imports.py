"""A command starts without the heavy libraries it does not use: every sync, status or report
is a new process, and scikit-learn (~1 s) or the web stack would be paid on each."""

from __future__ import annotations

import subprocess
import sys

from tests.reliability.crashkit import ROOT

HEAVY = ("sklearn", "scipy", "fastapi", "uvicorn")


def test_the_cli_and_the_sync_path_load_no_fitting_or_web_library() -> None:
    code = (
        "import sys, pulsehub.cli, pulsehub.runtime, sync.pipeline, sync.jobs, scoring.risk_store;"
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=str(ROOT), capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "", f"loaded at start-up: {out.stdout.strip()}"
