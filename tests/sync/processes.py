"""Real subprocesses for the integration tests: environment from settings, start, wait, stop."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def env_of(settings: Any) -> dict[str, str]:
    """PULSEHUB_* variables that reproduce `settings`' database and the three systems."""
    out = {"PULSEHUB_DATABASE_URL": settings.database_url}
    for system in ("salesforce", "zendesk", "usage"):
        for key, value in getattr(settings, system).model_dump().items():
            if value is None:
                continue
            raw = value.get_secret_value() if hasattr(value, "get_secret_value") else value
            out[f"PULSEHUB_{system.upper()}__{key.upper()}"] = str(raw)
    return out


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without its PULSEHUB_* variables, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PULSEHUB_")}
    env.update(PYTHONPATH=str(ROOT), **extra)
    return env


def start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """`python args...` in its own process group, output to `log`."""
    with log.open("w") as out:
        return subprocess.Popen(
            [sys.executable, *args],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=str(ROOT),
            start_new_session=True,
        )


def stop(proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
    """Signal the whole process group, SIGKILL what is left after 30 s (children included)."""
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        return
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(30)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(10)


def wait_for(pred: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what}")
