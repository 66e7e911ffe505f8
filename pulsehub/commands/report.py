"""`pulsehub report`: the dashboard overview as rich tables, or as one self-contained HTML file."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from pulsehub.commands.voice_report import print_voice
from pulsehub.formatting import band_label, money, pct
from reporting.common import BANDS
from reporting.overview import Overview, load_overview

app = typer.Typer(
    rich_markup_mode=None, help="The book of business at a glance.", invoke_without_command=True
)
STYLE = {"green": "green", "yellow": "yellow", "red": "red", "insufficient_data": "dim",
         "high": "red", "medium": "yellow", "low": "green", "sev1": "bold red", "sev2": "red",
         "sev3": "yellow", "sev4": "dim"}  # fmt: skip


def print_overview(console: Console, ov: Overview) -> None:
    console.print(
        f"[bold]Book of business[/] as of {ov.as_of:%Y-%m-%d}: {ov.accounts} accounts "
        f"({ov.current} current customers, {ov.churned} churned), {money(ov.total_arr)} ARR"
    )
    health = Table(title="health of current customers")
    for col in ("band", "accounts", "share", "ARR"):
        health.add_column(col, justify="left" if col == "band" else "right")
    for b in BANDS:
        share = pct(ov.bands[b] / ov.current) if ov.current else "-"
        health.add_row(
            f"[{STYLE[b]}]{band_label(b)}[/]", str(ov.bands[b]), share, money(ov.arr_by_band[b])
        )
    health.add_row("not scored", str(ov.unscored), "", "")
    health.add_row("[dim]churned[/]", str(ov.churned), "", money(ov.churned_arr))
    why = ", ".join(f"{n} {reason}" for reason, n in ov.unscored_reasons.items())
    health.caption = (
        f"not scored: {why or 'none'}. churned: lost their renewal or left per Salesforce; "
        "their last health is history and not counted in the bands"
    )
    console.print(health)
    renewals = Table(title="renewals ahead")
    for col in ("window", "accounts", "ARR", "high risk", "medium", "low", "ARR at high risk"):
        renewals.add_column(col, justify="left" if col == "window" else "right")
    for r in ov.renewals:
        renewals.add_row(f"next {r.days} days", str(r.accounts), money(r.arr), str(r.by_risk.get("high", 0)),
                         str(r.by_risk.get("medium", 0)), str(r.by_risk.get("low", 0)), money(r.arr_at_risk))  # fmt: skip
    console.print(renewals)
    esc = ", ".join(f"[{STYLE.get(s, '')}]{s}[/]: {n}" for s, n in ov.escalations.items())
    console.print(f"open escalations: {esc}")
    movers = Table(title=f"changed band this week: {ov.movers_total}")
    for col in ("account", "ARR", "was", "now"):
        movers.add_column(col, justify="right" if col == "ARR" else "left")
    for m in ov.movers[:20]:
        movers.add_row(m["name"], money(m["arr"]), f"[{STYLE.get(m['from_band'], '')}]{band_label(m['from_band'])}[/]",
                       f"[{STYLE.get(m['to_band'], '')}]{band_label(m['to_band'])}[/]")  # fmt: skip
    console.print(movers)


def write_html(ov: Overview, path: Path) -> None:
    """The overview page with its SVG charts, CSS inlined: opens anywhere, offline."""
    from pulsehub.web.pages import overview_charts
    from pulsehub.web.rendering import render_standalone

    generated = f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC"
    html = render_standalone(
        "overview.html",
        {"ov": ov, "chart": overview_charts(ov, links=False), "generated": generated, "done": ""},
    )
    path.write_text(html, encoding="utf-8")


@app.callback()
def report(
    html: Annotated[
        Path | None, typer.Option("--html", help="also write a self-contained HTML report here")
    ] = None,
    database: Annotated[
        str | None, typer.Option(help="database URL (default: PULSEHUB_DATABASE_URL)")
    ] = None,
) -> None:
    """Print the overview (health, renewals, escalations, band changes) and retention (GRR,
    NRR, renewal rate, churn, cohorts, cost-to-serve); optionally write the overview as HTML."""
    from model.db import make_session_factory
    from pulsehub.commands.db import open_database
    from pulsehub.commands.report_retention import print_retention
    from pulsehub.settings import get_settings
    from reporting.retention import load_retention
    from reporting.retention_config import load_retention_config
    from reporting.retention_json import retention_to_dict

    retention_config = load_retention_config(get_settings().retention_file)  # names the file
    engine = open_database(
        database or get_settings().database_url,
        variable="--database" if database else "PULSEHUB_DATABASE_URL",
    )
    from escalation.voice_config import load_voice
    from reporting.voice import load_voice as load_voice_view

    voice_config = load_voice(get_settings().voice_file)  # a bad file fails before any query
    console = Console()
    try:
        with make_session_factory(engine)() as session:
            ov = load_overview(session)
            retention = retention_to_dict(load_retention(session, retention_config))
            voice = load_voice_view(session, voice_config, ov.as_of)
    finally:
        engine.dispose()
    print_overview(console, ov)
    print_retention(console, retention)
    print_voice(console, voice)
    if html is not None:
        write_html(ov, html)
        console.print(f"HTML report written to {html}")
