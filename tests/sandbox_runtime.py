"""A pulsehub Runtime wired to an in-process sandbox, for tests that run the whole pipeline
over loopback HTTP (the sandbox is reachable as `runtime.sb`)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from model.db import upgrade
from pulsehub.demo import sandbox_settings
from pulsehub.runtime import Runtime
from sandbox import Sandbox


@contextmanager
def sandbox_runtime(url: str, *, accounts: int, seed: int, **settings: Any) -> Iterator[Runtime]:
    """Migrate `url`, start a sandbox of `accounts` (seed `seed`) and yield a Runtime on both;
    `settings` go to `sandbox_settings` (e.g. writeback_deadband)."""
    upgrade(url)
    with Sandbox(accounts=accounts, seed=seed) as sb:
        runtime = Runtime(sandbox_settings(sb.base_url, url, **settings))
        runtime.sb = sb  # type: ignore[attr-defined]
        try:
            yield runtime
        finally:
            runtime.close()
