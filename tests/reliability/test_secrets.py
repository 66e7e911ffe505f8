"""Secrets never leak: not in logs (DEBUG included), exceptions, CLI output or the database.

Two runs: one with the sandbox's accepted credentials (the success path, with writes), one
with canary credentials the sandbox refuses (every failure path: 401s, retries, errors).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from model.db import make_engine, upgrade
from sandbox import Sandbox
from sandbox import credentials as cred

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
CANARIES = {
    "PULSEHUB_SALESFORCE__PASSWORD": "canary-sf-password-7c1e",
    "PULSEHUB_SALESFORCE__SECURITY_TOKEN": "canary-sf-token-51ab",
    "PULSEHUB_ZENDESK__TOKEN": "canary-zd-token-93fd",
    "PULSEHUB_USAGE__TOKEN": "canary-usage-key-0d2c",
    "PULSEHUB_WEBHOOK_SECRET": "canary-webhook-secret-e8a0",
}
SANDBOX_SECRETS = [cred.SF_SESSION_ID, cred.ZD_API_TOKEN, cred.USAGE_BEARER_TOKEN]


def _env(base_url: str, db_url: str, *, canary: bool) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PULSEHUB_")}
    env.update(
        PYTHONPATH=str(ROOT),
        PULSEHUB_DATABASE_URL=db_url,
        PULSEHUB_SALESFORCE__LOOPBACK_URL=base_url,
        PULSEHUB_SALESFORCE__API_VERSION=cred.SF_API_VERSION,
        PULSEHUB_ZENDESK__SUBDOMAIN=cred.ZD_SUBDOMAIN,
        PULSEHUB_ZENDESK__EMAIL=cred.ZD_EMAIL,
        PULSEHUB_ZENDESK__LOOPBACK_URL=base_url,
        PULSEHUB_USAGE__BASE_URL=base_url,
    )
    if canary:
        env.update(CANARIES)
        env["PULSEHUB_SALESFORCE__USERNAME"] = cred.SF_USERNAME
    else:
        env.update(
            PULSEHUB_SALESFORCE__INSTANCE_URL="https://sandbox.my.salesforce.com",
            PULSEHUB_SALESFORCE__SESSION_ID=cred.SF_SESSION_ID,
            PULSEHUB_ZENDESK__TOKEN=cred.ZD_API_TOKEN,
            PULSEHUB_USAGE__TOKEN=cred.USAGE_BEARER_TOKEN,
            PULSEHUB_WEBHOOK_SECRET=CANARIES["PULSEHUB_WEBHOOK_SECRET"],
        )
    return env


def _dump_database(db_url: str) -> str:
    engine = make_engine(db_url)
    out = []
    with engine.connect() as conn:
        for table in inspect(conn).get_table_names():
            out.extend(repr(tuple(row)) for row in conn.execute(text(f'SELECT * FROM "{table}"')))
    engine.dispose()
    return "\n".join(out)


def test_no_secret_in_output_logs_or_database(tmp_path) -> None:
    db_url = f"sqlite:///{tmp_path / 'secrets.db'}"
    upgrade(db_url)
    produced = []
    with Sandbox(accounts=20, seed=9) as sb:
        for canary in (False, True):
            proc = subprocess.run(
                [sys.executable, "-m", "pulsehub.cli", "-v", "sync"],
                env=_env(sb.base_url, db_url, canary=canary),
                cwd=str(ROOT),
                capture_output=True,
                text=True,
                timeout=300,
            )
            produced.append(proc.stdout + proc.stderr)
            if not canary:
                assert proc.returncode == 0, proc.stderr[-3000:]
                assert sb.writes, "the success path must have written back"
            else:
                assert proc.returncode != 0, "canary credentials must be refused"
        status = subprocess.run(
            [sys.executable, "-m", "pulsehub.cli", "status"],
            env=_env(sb.base_url, db_url, canary=True),
            cwd=str(ROOT),
            capture_output=True,
            text=True,
            timeout=120,
        )
        produced.append(status.stdout + status.stderr)
    produced.append(_dump_database(db_url))
    everything = "\n".join(produced)
    assert "DEBUG" in everything  # the logs were really at the most verbose level
    for secret in [*CANARIES.values(), *SANDBOX_SECRETS]:
        assert secret not in everything, f"a secret leaked: {secret[:8]}..."
