"""`pulsehub sandbox serve`: prints the base URL and credentials (or an export block), then serves."""

from __future__ import annotations

import datetime as dt
import re
import shlex
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from sandbox import cli_main
from sandbox import credentials as cred


def test_cli_main_prints_credentials_and_serves(capsys: pytest.CaptureFixture[str]) -> None:
    stop = threading.Event()
    thread = threading.Thread(
        target=cli_main, kwargs={"port": 0, "accounts": 5, "seed": 1, "stop": stop}
    )
    thread.start()
    out = ""
    try:
        for _ in range(200):
            out += capsys.readouterr().out
            if "control API ready" in out:
                break
            time.sleep(0.05)
        found = re.search(r"serving on (http://127\.0\.0\.1:\d+)", out)
        assert found, out
        counts = httpx.get(f"{found.group(1)}/_sandbox/counts").json()
        assert counts["records"]["salesforce.Account"] == 5
        for secret in (
            cred.SF_SESSION_ID,
            cred.ZD_API_TOKEN,
            cred.USAGE_BEARER_TOKEN,
            cred.USAGE_EXPORT_SECRET,
            cred.SF_SECURITY_TOKEN,
        ):
            assert secret in out
        assert f'"force_netloc": "{found.group(1)[7:]}"' in out
    finally:
        stop.set()
        thread.join(5)
    assert not thread.is_alive()


def _serve(*args: str) -> subprocess.Popen[str]:
    """`pulsehub sandbox serve` in its own process, as a user starts it."""
    return subprocess.Popen(
        [sys.executable, "-m", "pulsehub.cli", "sandbox", "serve", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _read_until_ready(proc: subprocess.Popen[str]) -> list[str]:
    assert proc.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line.rstrip("\n"))
        if "control API ready" in line:
            return lines
    raise AssertionError(f"sandbox serve never got ready: {lines}")


def test_serve_print_env_and_fixed_clock_in_a_subprocess(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from connectors.salesforce_source import build_salesforce
    from connectors.usage_source import build_usage
    from connectors.zendesk_source import build_zendesk
    from pulsehub.settings import load_settings

    proc = _serve(
        "--accounts", "4", "--seed", "3", "--clock", "2025-06-02T15:30:00Z", "--print-env"
    )
    try:
        lines = _read_until_ready(proc)
        exports = [line for line in lines if not line.startswith("#")]
        assert exports and all(line.startswith("export PULSEHUB_") for line in exports)
        env = dict(shlex.split(line)[1].split("=", 1) for line in exports)
        assert len(env) == 11
        base = env["PULSEHUB_USAGE__BASE_URL"]
        counts = httpx.get(f"{base}/_sandbox/counts").json()
        started = dt.datetime.fromisoformat(counts["now"])
        start = dt.datetime(2025, 6, 2, 15, 30, tzinfo=dt.UTC)
        assert start <= started < start + dt.timedelta(seconds=60)
        # the whole output is shell: eval it and read a variable back
        script = tmp_path / "env.sh"
        script.write_text("\n".join(lines) + "\n")
        echoed = subprocess.run(
            ["bash", "-c", f'. "{script}" && echo "$PULSEHUB_ZENDESK__LOOPBACK_URL"'],
            capture_output=True,
            text=True,
            check=True,
        )
        assert echoed.stdout.strip() == base
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        settings = load_settings()
        assert settings.zendesk.export_requests_per_minute == int(
            env["PULSEHUB_ZENDESK__EXPORT_REQUESTS_PER_MINUTE"]
        )
        sf = build_salesforce(settings.salesforce)
        assert sf.query("SELECT COUNT() FROM Account")["totalSize"] == 4
        session = build_zendesk(settings.zendesk).organizations.session  # auth + loopback
        orgs = session.get(f"https://{settings.zendesk.subdomain}.zendesk.com/api/v2/organizations")
        assert len(orgs.json()["organizations"]) == counts["records"]["zendesk.organizations"]
        with build_usage(settings.usage) as usage:
            assert usage.get("/usage/v1/workspaces").status_code == 200
    finally:
        proc.terminate()
        proc.wait(10)


def test_serve_rejects_a_bad_clock_without_a_traceback() -> None:
    proc = _serve("--accounts", "2", "--clock", "yesterday")
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 2
    text = out + err
    assert "--clock" in text and "2025-06-02T15:30:00Z" in text and "'yesterday'" in text
    assert "Traceback" not in text


def test_serve_export_budget_is_served_and_printed() -> None:
    proc = _serve("--accounts", "2", "--export-per-minute", "2", "--print-env")
    try:
        lines = _read_until_ready(proc)
        env = dict(
            shlex.split(line)[1].split("=", 1) for line in lines if line.startswith("export")
        )
        assert env["PULSEHUB_ZENDESK__EXPORT_REQUESTS_PER_MINUTE"] == "2"
        auth = (f"{cred.ZD_EMAIL}/token", cred.ZD_API_TOKEN)
        with httpx.Client(base_url=env["PULSEHUB_ZENDESK__LOOPBACK_URL"], auth=auth) as client:
            got = [
                client.get("/api/v2/incremental/organizations.json", params={"start_time": 0})
                for _ in range(3)
            ]
        assert [r.status_code for r in got] == [200, 200, 429]
    finally:
        proc.terminate()
        proc.wait(10)


def test_serve_rejects_a_zero_export_budget_without_a_traceback() -> None:
    proc = _serve("--accounts", "2", "--export-per-minute", "0")
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 2
    assert "--export-per-minute" in out + err and "Traceback" not in out + err
