"""`pulsehub report`: rich tables on the terminal and a self-contained HTML file."""

from __future__ import annotations

import re

from typer.testing import CliRunner

from pulsehub.commands.report import app
from reporting.overview import load_overview


def test_report_prints_the_overview_and_writes_html(book_factory, tmp_path):
    factory, _, url = book_factory
    with factory() as s:
        ov = load_overview(s)
    out = tmp_path / "report.html"
    result = CliRunner().invoke(app, ["--database", url, "--html", str(out)], terminal_width=160)
    assert result.exit_code == 0, result.output
    assert f"{ov.accounts} accounts" in result.output
    row = next(line for line in result.output.splitlines() if "│ red" in line)
    assert f"│ {ov.bands['red']} │" in re.sub(r" +", " ", row)
    html = out.read_text()
    assert f'data-testid="band-green">{ov.bands["green"]}<' in html
    assert "<svg" in html and "<style>" in html
    assert not re.search(r'(src|href)="(https?:)?//', html)  # nothing loaded from elsewhere
    assert 'href="/' not in html  # no links back to a server


def test_report_registers_as_a_subcommand(book_factory):
    """How pulsehub.cli mounts it: `pulsehub report [--html FILE]`."""
    import typer

    _, _, url = book_factory
    root = typer.Typer()
    root.command("noop")(lambda: None)
    root.add_typer(app, name="report")
    result = CliRunner().invoke(root, ["report", "--database", url], terminal_width=160)
    assert result.exit_code == 0, result.output
    assert "renewals ahead" in result.output
