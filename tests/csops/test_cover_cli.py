"""`pulsehub cover add | list | end` against a real database file."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from model.db import make_engine, make_session_factory
from model.tables import CsmCover
from pulsehub.commands.cover import app
from pulsehub.settings import get_settings


@pytest.fixture()
def factory(migrated_url: str, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("PULSEHUB_DATABASE_URL", migrated_url)
    get_settings.cache_clear()
    engine = make_engine(migrated_url)
    yield make_session_factory(engine)
    engine.dispose()
    get_settings.cache_clear()


def test_add_list_and_end_a_cover(factory) -> None:
    runner = CliRunner()
    today = dt.datetime.now(dt.UTC).date()
    end = today + dt.timedelta(days=7)
    out = runner.invoke(app, ["add", "005A", "005B", "--to", end.isoformat(), "--note", "leave"])
    assert out.exit_code == 0, out.output
    assert "005A's new tasks go to 005B" in out.output
    listed = runner.invoke(app, ["list"])
    assert listed.exit_code == 0 and "005B" in listed.output and "leave" in listed.output
    with factory() as s:
        [row] = s.scalars(select(CsmCover)).all()
        assert (row.starts_on, row.ends_on, row.note) == (today, end, "leave")
    ended = runner.invoke(app, ["end", str(row.id)])
    assert ended.exit_code == 0
    with factory() as s:
        assert s.get(CsmCover, row.id).ends_on == today - dt.timedelta(days=1)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["add", "005A", "005B"], "--to is required"),
        (["add", "005A", "005B", "--to", "next week"], "is not a date"),
        (["add", "005A", "005B", "--from", "2026-05-02", "--to", "2026-05-01"], "swap them"),
        (["add", "005A", "005A", "--to", "2026-05-01"], "someone other"),
        (["end", "99"], "no cover 99"),
    ],
)
def test_bad_input_is_one_clear_line_and_stores_nothing(factory, args, message) -> None:
    out = CliRunner().invoke(app, args)
    assert out.exit_code == 2 and message in out.output
    assert "Traceback" not in out.output
    with factory() as s:
        assert s.scalars(select(CsmCover)).all() == []
