"""`pulsehub status`: a running sync says where it is (a first sync's replay names its week)."""

from __future__ import annotations

import os
import socket

from rich.console import Console

from model.db import transaction
from model.tables import SyncRun, utcnow
from pulsehub.report import print_status


def test_status_shows_the_step_a_running_sync_is_at(factory) -> None:
    step = "backfilling history: week 7 of 12 (2026-10-16)"
    progress = {"host": socket.gethostname(), "pid": os.getpid(), "step": step,
                "heartbeat_at": utcnow().isoformat()}  # fmt: skip
    with transaction(factory) as s:
        s.add(SyncRun(kind="sync", stats={"progress": progress}))
    console = Console(record=True, width=400)
    print_status(console, factory)
    assert f"now: {step}" in console.export_text()
