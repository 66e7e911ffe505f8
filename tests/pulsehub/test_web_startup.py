"""`pulsehub web` as a real process: without tokens it says at start that nobody can sign in."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

from model.db import upgrade
from tests.reliability.test_bad_input import PULSEHUB, clean_env
from tests.web.server import free_port


def _startup_lines(env: dict[str, str], cwd: Path) -> list[str]:
    """stderr of `pulsehub web` until uvicorn says it is serving (then the process is ended)."""
    proc = subprocess.Popen(
        [str(PULSEHUB), "web", "--port", str(free_port())],
        env=clean_env(env),
        cwd=cwd,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    lines: list[str] = []
    deadline = time.monotonic() + 60
    try:
        assert proc.stderr is not None
        while time.monotonic() < deadline:
            line = proc.stderr.readline()
            if not line:
                break
            lines.append(line)
            if "Uvicorn running" in line:
                return lines
        pytest.fail(f"pulsehub web did not start: {''.join(lines)}")
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    return lines


@pytest.mark.parametrize("tokens", [None, '{"cs-team": "t0ken"}'])
def test_web_without_tokens_says_nobody_can_sign_in(tmp_path, tokens) -> None:
    url = f"sqlite:///{tmp_path / 'web.db'}"
    upgrade(url)
    env = {"PULSEHUB_DATABASE_URL": url}
    if tokens:
        env["PULSEHUB_WEB_TOKENS"] = tokens
    warned = [line for line in _startup_lines(env, tmp_path) if "nobody can sign in" in line]
    if tokens:
        assert not warned
    else:
        assert len(warned) == 1 and "PULSEHUB_WEB_TOKENS" in warned[0] and '{"' in warned[0]
