"""`pulsehub sandbox serve` entry point: prints the base URL and credentials, then serves."""

from __future__ import annotations

import re
import threading
import time

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
