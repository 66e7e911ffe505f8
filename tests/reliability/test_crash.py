"""SIGKILL a sync at random points, restart it, and end exactly where a clean run ends.

Compared: every pulled row, snapshot, identity link, escalation and written value in the
database, and the sandbox's own state (fields, tags, created tickets) — no row lost or
duplicated, no ticket created twice. Iterations: PULSEHUB_CRASH_ITERATIONS (default 20).
"""

from __future__ import annotations

import datetime as dt
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from model.db import make_engine, make_session_factory, upgrade
from model.tables import (
    Account,
    Contact,
    Escalation,
    ExternalIdentity,
    HealthSnapshot,
    Opportunity,
    OutboxItem,
    Ticket,
    UsageDaily,
    WrittenState,
)
from pulsehub.demo import sandbox_settings
from sandbox import Sandbox

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
ITERATIONS = int(os.environ.get("PULSEHUB_CRASH_ITERATIONS", "20"))
NOW = dt.datetime(2026, 11, 2, 12, tzinfo=dt.UTC)
AS_OF = NOW.date().isoformat()
ACCOUNTS = 30


def _env(base_url: str, db_url: str) -> dict[str, str]:
    settings = sandbox_settings(base_url, db_url)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PULSEHUB_")}
    env["PULSEHUB_DATABASE_URL"] = db_url
    for system in ("salesforce", "zendesk", "usage"):
        for key, value in getattr(settings, system).model_dump().items():
            if value is not None:
                raw = value.get_secret_value() if hasattr(value, "get_secret_value") else value
                env[f"PULSEHUB_{system.upper()}__{key.upper()}"] = str(raw)
    env["PYTHONPATH"] = str(ROOT)
    return env


def _sync_cmd() -> list[str]:
    return [sys.executable, "-m", "pulsehub.cli", "sync", "--as-of", AS_OF]


def _state(db_url: str) -> dict[str, Any]:
    engine = make_engine(db_url)
    try:
        with make_session_factory(engine)() as s:
            acc_sf = dict(s.execute(select(Account.id, Account.sf_id)).all())

            def rows(stmt) -> list[tuple]:
                return sorted(tuple(r) for r in s.execute(stmt).all())

            return {
                "accounts": rows(
                    select(Account.sf_id, Account.name, Account.arr, Account.is_deleted)
                ),
                "contacts": rows(select(Contact.sf_id, Contact.account_sf_id, Contact.is_champion)),
                "opps": rows(select(Opportunity.sf_id, Opportunity.stage, Opportunity.amount)),
                "tickets": rows(
                    select(
                        Ticket.zd_id,
                        Ticket.status,
                        Ticket.priority,
                        Ticket.csat,
                        Ticket.first_reply_minutes,
                    )
                ),
                "usage": rows(
                    select(UsageDaily.workspace_id, UsageDaily.day, UsageDaily.active_users)
                ),
                "identities": rows(
                    select(
                        ExternalIdentity.source,
                        ExternalIdentity.external_id,
                        ExternalIdentity.status,
                        ExternalIdentity.method,
                    )
                ),
                "snapshots": sorted(
                    (acc_sf[a], d, sc, b)
                    for a, d, sc, b in s.execute(
                        select(
                            HealthSnapshot.account_id,
                            HealthSnapshot.as_of,
                            HealthSnapshot.score,
                            HealthSnapshot.band,
                        )
                    ).all()
                ),
                "escalations": rows(
                    select(Escalation.dedup_key, Escalation.state, Escalation.severity)
                ),
                "written": rows(
                    select(
                        WrittenState.system,
                        WrittenState.target_kind,
                        WrittenState.target_id,
                        WrittenState.field,
                        WrittenState.value,
                    )
                ),
                "outbox_open": rows(
                    select(OutboxItem.kind, OutboxItem.status).where(
                        OutboxItem.status.in_(("pending", "dead"))
                    )
                ),
            }
    finally:
        engine.dispose()


def _sandbox_state(sb: Sandbox) -> dict[str, Any]:
    final_fields: dict[tuple[str, str], Any] = {}
    tags: dict[str, set[str]] = {}
    created: list[str] = []
    for w in sb.writes:
        if w["kind"] in {"account_fields", "org_fields"}:
            for f, v in w["changes"].items():
                final_fields[(w["target_id"], f)] = v
        elif w["kind"] == "ticket_tags_added":
            tags.setdefault(w["target_id"], set()).update(w["changes"]["tags"])
        elif w["kind"] == "ticket_tags_removed":
            tags.setdefault(w["target_id"], set()).difference_update(w["changes"]["tags"])
        elif w["kind"] == "ticket_created":
            created.append(f"ticket {w['changes'].get('external_id')}")
        elif w["kind"] == "task_created":
            c = w["changes"]
            created.append(f"task {c.get('WhatId')} {c.get('Subject')} {c.get('ActivityDate')}")
    return {"fields": final_fields, "tags": tags, "created": sorted(created)}


def _run_to_completion(env: dict[str, str], rng: random.Random, kills: list[float]) -> None:
    """Start syncs, killing each after a random delay, until one finishes on its own."""
    for _ in range(200):
        proc = subprocess.Popen(
            _sync_cmd(),
            env=env,
            cwd=str(ROOT),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        delay = rng.uniform(0.3, 4.0) if len(kills) < ITERATIONS else None
        try:
            _, err = proc.communicate(timeout=delay if delay is not None else 300)
            assert proc.returncode == 0, err.decode()[-2000:]
            return
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            kills.append(delay or 0.0)
    raise AssertionError("never finished")


def test_sigkill_at_random_points_ends_identical_to_a_clean_run(tmp_path) -> None:
    clean_db = f"sqlite:///{tmp_path / 'clean.db'}"
    crash_db = f"sqlite:///{tmp_path / 'crash.db'}"
    upgrade(clean_db)
    upgrade(crash_db)
    with Sandbox(accounts=ACCOUNTS, seed=3, now=NOW) as clean_sb:
        started = time.monotonic()
        subprocess.run(
            _sync_cmd(),
            env=_env(clean_sb.base_url, clean_db),
            cwd=str(ROOT),
            check=True,
            capture_output=True,
        )
        clean_seconds = time.monotonic() - started
        expected_sandbox = _sandbox_state(clean_sb)
    expected = _state(clean_db)
    assert expected["written"], "the clean run must have written something"

    rng = random.Random(20261123)
    kills: list[float] = []
    with Sandbox(accounts=ACCOUNTS, seed=3, now=NOW) as crash_sb:
        env = _env(crash_sb.base_url, crash_db)
        while len(kills) < ITERATIONS:
            _run_to_completion(env, rng, kills)
        _run_to_completion(env, rng, kills)  # and once more after the last kill
        got_sandbox = _sandbox_state(crash_sb)
    got = _state(crash_db)

    for key in expected:
        assert got[key] == expected[key], f"{key} differs after {len(kills)} kills"
    assert got_sandbox["fields"] == expected_sandbox["fields"]
    assert got_sandbox["tags"] == expected_sandbox["tags"]
    assert got_sandbox["created"] == expected_sandbox["created"]  # no ticket/task created twice
    assert len(got_sandbox["created"]) == len(set(got_sandbox["created"]))
    print(f"clean run {clean_seconds:.1f}s; survived {len(kills)} SIGKILLs")
