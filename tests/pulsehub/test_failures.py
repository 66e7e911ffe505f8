"""The one failure path: what is explained to the operator, and what stays a traceback (a bug)."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy.exc import IntegrityError, OperationalError

from connectors.errors import ConfigError
from model.db import schema_problem
from pulsehub.failures import exit_code, explain
from scoring.config import ScorecardError
from sync.schedule import ScheduleError


def _db_error(cls: type, message: str) -> Exception:
    return cls("SELECT 1", {}, sqlite3.OperationalError(message))


@pytest.mark.parametrize(
    ("message", "words"),
    [
        ("database is locked", "locked"),
        ("no such table: sync_runs", "pulsehub db upgrade"),
        ('connection failed: port 1 failed: Connection refused\n\tIs the server running', "start PostgreSQL"),
        ('FATAL:  password authentication failed for user "x"', "user or password"),
    ],
)  # fmt: skip
def test_database_failures_an_operator_can_fix_are_explained(message: str, words: str) -> None:
    text = explain(_db_error(OperationalError, message))
    assert text is not None and words in text and "\n" not in text


def test_a_bug_keeps_its_traceback(capsys) -> None:
    bug = _db_error(IntegrityError, "UNIQUE constraint failed: accounts.crm_id")
    assert explain(bug) is None and explain(KeyError("x")) is None
    with pytest.raises(KeyError):
        exit_code(KeyError("x"), verbose=False)
    assert capsys.readouterr().err == ""


def test_every_config_error_class_shares_the_one_base_and_exit_code(capsys) -> None:
    for error in (ScorecardError("card.yaml: bad"), ScheduleError("schedule.yaml: bad")):
        assert isinstance(error, ConfigError)
        assert exit_code(error, verbose=False) == 2
    assert capsys.readouterr().err.count("error:") == 2


def test_schema_revisions_say_what_to_run() -> None:
    from alembic.script import ScriptDirectory

    from model.db import MIGRATIONS_DIR

    script = ScriptDirectory(str(MIGRATIONS_DIR))
    head = script.get_current_head()
    oldest = list(script.walk_revisions())[-1].revision
    assert oldest != head and schema_problem(head) is None
    assert "pulsehub db upgrade" in (schema_problem(None) or "")
    assert f"at revision {oldest}" in (schema_problem(oldest) or "")
    assert "unknown to this pulsehub" in (schema_problem("ffffffffffff") or "")
