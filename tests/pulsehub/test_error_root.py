"""One error root: every bad configuration is a ConfigError under PulsehubError, and the CLI
prints its file, key and fix on one error line, without a traceback."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from connectors.errors import ConfigError, ConnectorError, Fatal, PulsehubError
from escalation.config import load_rules
from pulsehub.failures import exit_code
from scoring.config import load_scorecard
from scoring.table import load_map
from sync.schedule import load_schedule

BAD_FILES: list[tuple[Callable[[Path], object], str, str, str]] = [
    (load_scorecard, "bands:\n  yelow: 40\n", "bands.yelow", "fix its spelling"),
    (load_rules, "rules:\n  - when: 1\n", "rules", "change the value"),
    (load_schedule, "sync:\n  every: 60\n", "unknown job 'sync'", "known jobs"),
    (load_map, "id: id\nlabel: churn\ncolour: red\n", "colour", "fix the value"),
]


def test_config_and_connector_errors_share_the_root() -> None:
    assert issubclass(ConfigError, PulsehubError) and issubclass(ConnectorError, PulsehubError)
    assert not issubclass(ConfigError, ConnectorError)
    assert issubclass(Fatal, PulsehubError)


@pytest.mark.parametrize(("load", "text", "key", "fix"), BAD_FILES)
def test_a_bad_file_names_itself_its_key_and_the_fix(
    load: Callable[[Path], object], text: str, key: str, fix: str, tmp_path: Path, capsys
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load(path)
    assert exit_code(caught.value, verbose=False) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and "Traceback" not in err
    assert str(path) in err and key in err and fix in err


def test_a_bad_setting_ends_the_cli_with_its_variable_and_no_traceback(monkeypatch, capsys) -> None:
    from pulsehub import cli
    from pulsehub.settings import get_settings

    get_settings.cache_clear()  # read the environment below, not an earlier test's
    monkeypatch.setenv("PULSEHUB_WRITEBACK_POLICY", "bogus")
    monkeypatch.setattr(sys, "argv", ["pulsehub", "db", "upgrade"])
    with pytest.raises(SystemExit) as ended:
        cli.run()
    assert ended.value.code == 2
    err = capsys.readouterr().err
    assert "PULSEHUB_WRITEBACK_POLICY" in err and "unset it" in err and "Traceback" not in err


def test_a_connector_error_reaching_the_cli_is_one_line(capsys) -> None:
    assert exit_code(Fatal("INVALID_FIELD: No such column", status=400), verbose=False) == 2
    err = capsys.readouterr().err
    assert "400" in err and "INVALID_FIELD" in err and "Traceback" not in err
