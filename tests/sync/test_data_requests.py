"""Data requests on the sandbox over loopback HTTP: an export validates against its schema;
an erasure leaves no row about the account, and neither an incremental sync of changed
records nor a reconcile of whole sources brings it back; relink lifts it."""

from __future__ import annotations

import json

import jsonschema
import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from model.account_rows import AccountKeys, account_keys, account_tables
from model.db import upgrade
from model.tables import Account, BookMixDay, DataRequest, ErasedKey, Escalation, Ticket, UsageDaily
from pulsehub.demo import sandbox_settings
from pulsehub.runtime import Runtime
from pulsehub.settings import get_settings
from reporting.data_export import build_export, export_schema
from sandbox import Sandbox
from sync.erasure import erase_account, relink


@pytest.fixture
def db_url(request, tmp_path) -> str:
    """SQLite by default; the delete test runs on real PostgreSQL too."""
    if getattr(request, "param", "sqlite") == "postgres":
        return request.getfixturevalue("pg_url")
    return f"sqlite:///{tmp_path / 'data.db'}"


@pytest.fixture
def rt(db_url, monkeypatch):
    with Sandbox(accounts=30, seed=5) as sb:
        url = db_url
        upgrade(url)
        monkeypatch.setenv("PULSEHUB_DATABASE_URL", url)
        get_settings.cache_clear()
        runtime = Runtime(sandbox_settings(sb.base_url, url))
        runtime.sb = sb  # type: ignore[attr-defined]
        try:
            yield runtime
        finally:
            runtime.close()
            get_settings.cache_clear()


def _busy_account(session) -> int:
    """An account with tickets, usage and (preferably) an escalation: the most to erase."""
    tickets = select(Ticket.account_id, func.count()).group_by(Ticket.account_id)
    counts = {a: n for a, n in session.execute(tickets) if a is not None}
    used = set(session.scalars(select(UsageDaily.account_id).distinct()))
    escalated = set(session.scalars(select(Escalation.account_id)))
    ranked = sorted(counts, key=lambda a: (a in escalated, a in used, counts[a]), reverse=True)
    return ranked[0]


def _rows_about(session, keys: AccountKeys) -> dict[str, int]:
    found = {}
    for table, where in account_tables(keys):
        if table.name in {"data_requests"}:
            continue
        n = session.scalar(select(func.count()).select_from(table).where(where))
        if n:
            found[table.name] = n
    return found


def test_export_validates_against_the_shipped_schema(rt):
    assert rt.sync().errors == []
    with rt.factory() as s:
        account_id = _busy_account(s)
        doc = build_export(s, account_id)
    jsonschema.validate(doc, export_schema())
    tables = doc["tables"]
    assert tables["accounts"][0]["id"] == account_id
    assert tables["tickets"] and tables["usage_daily"] and tables["external_identities"]
    assert tables["health_snapshots"]
    # a document that strays from the schema is refused
    broken = json.loads(json.dumps(doc))
    broken["tables"]["tickets"][0]["body"] = "free text"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, export_schema())


@pytest.mark.parametrize(
    "db_url", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
def test_delete_then_sync_and_reconcile_leave_no_row_about_the_account(rt):
    assert rt.sync().errors == []
    with rt.factory() as s:
        account_id = _busy_account(s)
        keys = account_keys(s, account_id)
        before = _rows_about(s, keys)
        others = s.scalar(select(func.count()).select_from(Account)) - 1
    assert {"accounts", "tickets", "usage_daily", "health_snapshots"} <= set(before)
    with rt.factory() as s:
        dry = erase_account(s, account_id, "dpo@example.test")
        s.rollback()
        assert _rows_about(s, keys) == before  # a dry run changes nothing
        assert s.scalar(select(func.count()).select_from(ErasedKey)) == 0
    with rt.factory() as s:
        kept_days = s.scalar(select(func.count()).select_from(BookMixDay))
    with rt.factory() as s, s.begin():
        erased = erase_account(s, account_id, "dpo@example.test")
    assert erased.rows == dry.rows and erased.total == sum(before.values())
    # the book's topic mix counted this account's ticket subjects too: dropped, re-counted later
    assert kept_days and erased.mix_days_dropped == kept_days
    with rt.factory() as s:
        assert s.scalar(select(func.count()).select_from(BookMixDay)) == 0

    rt.sb.change(1.0)  # every record in every source changes: an incremental pull re-reads all
    rt.sb.tick(61)
    assert rt.sync().errors == []
    rt.reconcile()
    with rt.factory() as s:
        assert _rows_about(s, keys) == {}
        assert s.scalar(select(func.count()).select_from(Account)) == others
        audit = s.scalars(select(DataRequest).where(DataRequest.kind == "delete")).one()
        assert audit.actor == "dpo@example.test" and audit.counts["rows"] == erased.rows
        assert "name" not in json.dumps(audit.counts)

    with rt.factory() as s, s.begin():
        assert relink(s, erased.request_id, "dpo@example.test") == erased.erased_keys
    rt.reconcile()  # lifted: the account comes back from its sources
    with rt.factory() as s:
        crm_id = next(iter(keys.keys["account"]))
        assert (
            s.scalar(select(func.count()).select_from(Account).where(Account.crm_id == crm_id)) == 1
        )


def test_cli_delete_asks_shows_a_dry_run_and_exports_json(rt):
    from pulsehub.cli import app

    assert rt.sync().errors == []
    with rt.factory() as s:
        account_id = _busy_account(s)
        name = s.get(Account, account_id).name
    runner = CliRunner()
    exported = runner.invoke(app, ["data", "export", name])
    assert exported.exit_code == 0, exported.output
    jsonschema.validate(json.loads(exported.stdout), export_schema())
    dry = runner.invoke(app, ["data", "delete", str(account_id), "--dry-run"])
    assert dry.exit_code == 0 and "dry run" in dry.output and "Nothing was changed" in dry.output
    refused = runner.invoke(app, ["data", "delete", str(account_id)], input="n\n")
    assert refused.exit_code == 1
    with rt.factory() as s:
        assert s.get(Account, account_id) is not None
    done = runner.invoke(app, ["data", "delete", str(account_id), "--yes"])
    assert done.exit_code == 0 and "erased account" in done.output
    missing = runner.invoke(app, ["data", "export", str(account_id)])
    assert missing.exit_code == 2 and f"no account {account_id}" in missing.output
    with rt.factory() as s:
        kinds = list(s.scalars(select(DataRequest.kind).order_by(DataRequest.id)))
    assert kinds == ["export", "delete"]


def test_ticket_bodies_and_comments_are_never_stored():
    """What is kept of a ticket is its subject (repeat-issue clustering reads it), tags and
    metrics: no column can hold a body, description or comment text."""
    from model.tables import Ticket

    text_like = {"body", "description", "comment", "comments", "text", "html_body", "raw"}
    assert not text_like & set(Ticket.__table__.c.keys())
    assert Ticket.__table__.c.subject.type.length == 500
