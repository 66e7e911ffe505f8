"""docker-compose.yml as shipped: checked for meaning (no Docker engine here), then each of its
pulsehub command lines run as a real process with the compose environment (service host
names pointed at the loopback PostgreSQL and Redis), and each healthcheck run against it."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel

from pulsehub.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
PULSEHUB_SERVICES = ("migrate", "worker", "beat", "web")
LONG_RUNNING = ("worker", "beat", "web")


def _variables(model: type[BaseModel], prefix: str = "PULSEHUB_") -> list[str]:
    out = []
    for name, field in model.model_fields.items():
        ann = field.annotation
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            out += _variables(ann, f"{prefix}{name.upper()}__")
        else:
            out.append(f"{prefix}{name.upper()}")
    return out


def test_services_start_without_an_env_file_and_env_example_documents_every_variable() -> None:
    assert {"postgres", "redis", *PULSEHUB_SERVICES} <= set(SERVICES)
    example = (ROOT / ".env.example").read_text()
    for name in PULSEHUB_SERVICES:
        env_files = SERVICES[name]["env_file"]
        assert env_files == [{"path": ".env", "required": False}], name
    testing_only = {"LOOPBACK_URL"}
    missing = [
        v
        for v in _variables(Settings)
        if v.rsplit("__", 1)[-1] not in testing_only and v not in example
    ]
    assert missing == [], f".env.example does not document {missing}"
    assert "PULSEHUB_LOG_FORMAT" in example


def test_long_running_services_have_healthchecks_and_restart_policies() -> None:
    assert SERVICES["migrate"]["restart"] == "no"
    for name in LONG_RUNNING:
        svc = SERVICES[name]
        assert svc["restart"] == "unless-stopped", name
        check = svc["healthcheck"]["test"]
        assert check[:3] == ["CMD", "pulsehub", "healthcheck"] and check[3] == name, name
        assert svc["depends_on"]["migrate"]["condition"] == "service_completed_successfully"


def test_beat_keeps_its_schedule_in_a_volume_the_image_makes_writable() -> None:
    beat = SERVICES["beat"]
    schedule = beat["command"][beat["command"].index("--schedule-file") + 1]
    mounts = dict(v.split(":", 1)[::-1] for v in beat["volumes"])
    directory = str(Path(schedule).parent)
    assert directory in mounts and mounts[directory] in COMPOSE["volumes"]
    dockerfile = (ROOT / "Dockerfile").read_text()
    chown = re.search(r"chown pulsehub:pulsehub ([^\n]+)", dockerfile)
    assert chown and directory in chown.group(1).split()
    assert dockerfile.index("chown") < dockerfile.index("USER pulsehub")
    assert beat["healthcheck"]["test"][-1] == schedule


# --- the command lines, run for real ------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env(pg_url: str, redis_url: str) -> dict[str, str]:
    """The compose environment, its service host names replaced by the loopback services."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PULSEHUB_")}
    compose_env: dict[str, Any] = SERVICES["web"]["environment"]
    assert "@postgres:5432/" in compose_env["PULSEHUB_DATABASE_URL"]
    assert compose_env["PULSEHUB_BROKER_URL"].startswith("redis://redis:6379/")
    env.update(
        PULSEHUB_DATABASE_URL=pg_url,
        PULSEHUB_BROKER_URL=redis_url,
        PULSEHUB_WEB_TOKENS='{"ops:operator": "compose-test-token"}',
        PULSEHUB_LOG_FORMAT="json",
        PYTHONPATH=str(ROOT),
    )
    return env


def _pulsehub(args: list[str]) -> list[str]:
    return [sys.executable, "-m", "pulsehub.cli", *args]


def _wait_healthy(check: list[str], env: dict[str, str], proc: subprocess.Popen, log: Path) -> str:
    deadline = time.monotonic() + 90
    last = ""
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"exited {proc.returncode}: {log.read_text()[-2000:]}")
        done = subprocess.run(_pulsehub(check), env=env, capture_output=True, text=True)
        if done.returncode == 0:
            return done.stdout
        last = done.stderr
        time.sleep(1)
    raise AssertionError(f"never healthy: {last}\n{log.read_text()[-2000:]}")


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.slow
def test_each_compose_command_runs_and_passes_its_healthcheck(pg_url, redis_url, tmp_path) -> None:
    import redis

    env = _env(pg_url, redis_url)
    try:
        _run_each(env, tmp_path)
    finally:  # beat queued its first due jobs: leave no task for another test's worker
        redis.Redis.from_url(redis_url).delete("celery", "unacked", "unacked_index")


def _run_each(env: dict[str, str], tmp_path: Path) -> None:
    migrate = subprocess.run(
        _pulsehub(SERVICES["migrate"]["command"]), env=env, capture_output=True, text=True
    )
    assert migrate.returncode == 0, migrate.stderr
    port = _free_port()
    state = tmp_path / "beat-state"
    for name in LONG_RUNNING:
        command = [str(x) for x in SERVICES[name]["command"]]
        check = [str(x) for x in SERVICES[name]["healthcheck"]["test"][2:]]
        if name == "web":
            command[command.index("--port") + 1] = str(port)
            command[command.index("--host") + 1] = "127.0.0.1"
            check[-1] = f"http://127.0.0.1:{port}/healthz"
        if name == "beat":
            command[-1] = check[-1] = str(state / "celerybeat-schedule")
        log = tmp_path / f"{name}.log"
        with log.open("w") as out:
            proc = subprocess.Popen(
                _pulsehub(command), env=env, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        try:
            assert _wait_healthy(check, env, proc, log).strip() == "ok"
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if name in ("worker", "web"):  # JSON logs, one object a line, when asked for
            first = next(line for line in log.read_text().splitlines() if line.startswith("{"))
            assert '"level"' in first and '"event"' in first, first
