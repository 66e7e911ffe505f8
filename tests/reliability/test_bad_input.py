"""The bad-input corpus (bad_input.yaml): the real `pulsehub` console script, one subprocess
per case, must refuse each input with a short message naming it and the fix — never a
traceback (tracebacks are for -v)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from model.db import upgrade
from tests.web.server import free_port

CORPUS = yaml.safe_load((Path(__file__).with_name("bad_input.yaml")).read_text())
PULSEHUB = Path(sys.executable).with_name("pulsehub")
ROOT = Path(__file__).resolve().parents[2]
TRIED = {"cases": 0, "tracebacks": 0}


@pytest.fixture(scope="module")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = f"sqlite:///{tmp_path_factory.mktemp('corpus') / 'pulsehub.db'}"
    upgrade(url)
    yield url
    print(f"\nbad-input corpus: {TRIED['cases']} cases, {TRIED['tracebacks']} tracebacks")


def _fill(value: Any, names: dict[str, str]) -> Any:
    if isinstance(value, str):
        for key, sub in names.items():
            value = value.replace("{" + key + "}", sub)
        return value
    if isinstance(value, list):
        return [_fill(v, names) for v in value]
    if isinstance(value, dict):
        return {_fill(k, names): _fill(v, names) for k, v in value.items()}
    return value


def clean_env(env: dict[str, str]) -> dict[str, str]:
    """This environment without any PULSEHUB_* variable, plus `env`."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("PULSEHUB_")}
    return {**base, "COLUMNS": "80", **env}


def run_pulsehub(args: list[str], env: dict[str, str], cwd: Path) -> tuple[int, str]:
    """The console script with only `env` for PULSEHUB_* settings: (exit code, output)."""
    proc = subprocess.run(
        [str(PULSEHUB), *args],
        env=clean_env(env),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return proc.returncode, proc.stdout + proc.stderr


def _run_case(case: dict[str, Any], tmp_path: Path, migrated: str, port: int) -> tuple[int, str]:
    names = {"tmp": str(tmp_path), "port": str(port)}
    case = _fill(case, names)
    for name, content in (case.get("files") or {}).items():
        if isinstance(content, dict):
            content = (ROOT / content["copy"]).read_text() + content.get("append", "")
        (tmp_path / name).write_text(content)
    env = {"PULSEHUB_DATABASE_URL": migrated, **(case.get("env") or {})}
    return run_pulsehub(case["args"], env, tmp_path)


@pytest.mark.parametrize("case", CORPUS, ids=[c["id"] for c in CORPUS])
def test_bad_input_is_refused_with_a_short_message(case, tmp_path, migrated) -> None:
    port = free_port()
    holder = socket.create_server(("127.0.0.1", port)) if case.get("busy") else None
    try:
        code, output = _run_case(case, tmp_path, migrated, port)
    finally:
        if holder is not None:
            holder.close()
    TRIED["cases"] += 1
    TRIED["tracebacks"] += "Traceback" in output
    lines = [line for line in output.splitlines() if line.strip()]
    assert code != 0, output
    assert "Traceback" not in output, output
    assert len(lines) <= 3, output
    for word in _fill(case["expect"], {"tmp": str(tmp_path), "port": str(port)}):
        assert word in output, f"{word!r} not in: {output}"


def test_verbose_shows_the_traceback_behind_the_message(tmp_path, migrated) -> None:
    env = {"PULSEHUB_DATABASE_URL": migrated, "PULSEHUB_WEB_TOKENS": "notjson"}
    code, quiet = run_pulsehub(["status"], env, tmp_path)
    code_v, loud = run_pulsehub(["-v", "status"], env, tmp_path)
    assert code == code_v == 2
    assert "Traceback" not in quiet and "Traceback" in loud
    assert quiet.strip().splitlines()[-1] in loud, "the same message ends both"


def test_the_corpus_case_ids_are_unique() -> None:
    ids = [c["id"] for c in CORPUS]
    assert len(ids) == len(set(ids))
