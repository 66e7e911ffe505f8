"""`pulsehub report` prints the voice-of-the-customer figures after the overview."""

from __future__ import annotations

import re

from typer.testing import CliRunner

from escalation.voice_config import load_voice
from pulsehub.commands.report import app
from reporting.common import as_of_day
from reporting.voice import load_voice as load_view


def test_report_prints_the_months_and_the_themes(demo_factory):
    factory, url = demo_factory
    with factory() as s:
        v = load_view(s, load_voice(), as_of_day(s), suggest=False)
    result = CliRunner().invoke(app, ["--database", url], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "voice of the customer by month" in result.output
    month = next(m for m in reversed(v.monthly) if m["nps_responses"])
    row = next(line for line in result.output.splitlines() if f"│ {month['month']} " in line)
    cells = [c.strip() for c in re.split(r"│", row) if c.strip()]
    assert cells[1] == f"{month['nps']:,.0f}" and cells[2] == str(month["promoters"])
    for t in v.themes:
        assert t["label"] in result.output
