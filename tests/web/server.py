"""A real uvicorn server on 127.0.0.1 in a thread, and headless Chromium for browser tests."""

from __future__ import annotations

import os
import shutil
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import uvicorn

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
CHROMIUM = os.environ.get("PULSEHUB_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]  # fmt: skip


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serve(app: Any) -> Iterator[str]:
    """Run `app` with uvicorn until the block exits; yields its base URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    started = threading.Event()
    for _ in range(500):  # wait for the socket, not for a time: give up after 500 polls
        if server.started:
            started.set()
            break
        threading.Event().wait(0.01)
    if not started.is_set():
        server.should_exit = True
        raise RuntimeError("uvicorn did not start")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


def require_chromium() -> str:
    """The Chromium binary; in CI a missing browser fails, elsewhere it skips."""
    path = CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")
    if path:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            path = None
    if not path:
        message = f"headless Chromium or playwright missing ({CHROMIUM})"
        if IN_CI:
            pytest.fail(f"{message}: CI installs the Debian chromium package")
        pytest.skip(message)
    return path


def screenshot_dir(tmp_dir: Path) -> Path:
    """Screenshots go to PULSEHUB_SCREENSHOTS (e.g. docs/screenshots) or a temporary directory."""
    target = Path(os.environ.get("PULSEHUB_SCREENSHOTS") or tmp_dir)
    target.mkdir(parents=True, exist_ok=True)
    return target


VIEWPORT = {"width": 1440, "height": 900}


def sign_in(chromium: Any, base: str, token: str) -> Any:
    page = chromium.new_page(viewport=VIEWPORT)
    page.goto(f"{base}/")
    assert "/login" in page.url  # anonymous visitors are sent to the login form
    page.fill("input[name=token]", token)
    page.click("button.primary")
    page.wait_for_url(f"{base}/")
    return page
