"""The pull stage tells each source what it is about to read: Salesforce answers the crm
streams of an hourly run, and of the nightly reconcile, in one Composite call."""

from __future__ import annotations

import datetime as dt

import pytest

from model.db import upgrade
from pulsehub.demo import sandbox_settings
from pulsehub.runtime import Runtime
from sandbox import Sandbox

NOW = dt.datetime(2026, 11, 2, 12, tzinfo=dt.UTC)


@pytest.fixture
def sb():
    with Sandbox(accounts=12, seed=3, now=NOW) as sandbox:
        yield sandbox


def _salesforce(sb: Sandbox) -> list[str]:
    return [f"{r['method']} {r['path'].rsplit('/', 1)[-1] or r['path']}"
            for r in sb.requests if r["system"] == "salesforce"]  # fmt: skip


def test_an_hourly_and_a_reconcile_run_read_salesforce_in_one_call(sb, tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'p.db'}"
    upgrade(url)
    rt = Runtime(sandbox_settings(sb.base_url, url))
    try:
        first = rt.sync(as_of=NOW.date())
        assert not first.errors
        assert first.pulled["salesforce.accounts"] == 12
        sb.change(0.3, seed=2)
        sb.tick(61)
        sb.clear_log()
        hourly = rt.sync(as_of=NOW.date())
        assert not hourly.errors and hourly.pulled["salesforce.contacts"] > 0
        reads = [r for r in _salesforce(sb) if not r.startswith(("PATCH", "POST sobjects"))]
        assert reads == ["POST composite"], reads
        sb.clear_log()
        nightly = rt.reconcile()
        assert not nightly.errors and nightly.pulled["salesforce.accounts"] == 12
        assert _salesforce(sb)[0] == "POST composite"
        assert not [r for r in _salesforce(sb) if r.startswith("GET query")]
    finally:
        rt.close()
