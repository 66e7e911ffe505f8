"""The PostgreSQL engine's sessions cancel their query when the client process dies."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
from sqlalchemy import text

from model.db import CLIENT_CHECK_MS, make_engine
from tests.sync.processes import ROOT

pytestmark = pytest.mark.postgres

SLEEPER = """
import sys
from sqlalchemy import text
from model.db import make_engine
engine = make_engine(sys.argv[1])
with engine.connect() as conn:
    conn.execute(text("SELECT 'pulsehub-orphan-check', pg_sleep(600)"))
"""


def _backends(conn) -> list[int]:
    q = "SELECT pid FROM pg_stat_activity WHERE query LIKE '%pulsehub-orphan-check%' AND pid <> pg_backend_pid()"
    pids = list(conn.execute(text(q)).scalars())
    conn.rollback()  # pg_stat_activity is read once per transaction
    return pids


def test_every_connection_checks_its_client(pg_url) -> None:
    engine = make_engine(pg_url)
    try:
        with engine.connect() as conn:
            if (conn.dialect.server_version_info or (0,)) < (14,):
                pytest.skip("client_connection_check_interval needs PostgreSQL 14")
            value = conn.execute(text("SHOW client_connection_check_interval")).scalar_one()
            conn.rollback()  # the pool's reset on return must not undo it
        with engine.connect() as conn:
            again = conn.execute(text("SHOW client_connection_check_interval")).scalar_one()
    finally:
        engine.dispose()
    assert value == again == f"{CLIENT_CHECK_MS // 1000}s"


def test_a_killed_client_does_not_leave_its_query_running(pg_url) -> None:
    engine = make_engine(pg_url)
    client = subprocess.Popen(
        [sys.executable, "-c", SLEEPER, pg_url], cwd=str(ROOT), start_new_session=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    try:
        with engine.connect() as conn:
            deadline = time.monotonic() + 30
            while not _backends(conn):
                assert time.monotonic() < deadline, "the client's query never started"
                time.sleep(0.2)
            os.killpg(client.pid, signal.SIGKILL)
            client.wait(10)
            deadline = time.monotonic() + 3 * CLIENT_CHECK_MS / 1000
            while _backends(conn):
                assert time.monotonic() < deadline, "the dead client's query is still running"
                time.sleep(0.5)
    finally:
        if client.poll() is None:
            os.killpg(client.pid, signal.SIGKILL)
        with engine.connect() as conn:  # never leave a sleeper behind, even on failure
            conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                              "WHERE query LIKE '%pulsehub-orphan-check%' "
                              "AND pid <> pg_backend_pid()"))  # fmt: skip
        engine.dispose()
