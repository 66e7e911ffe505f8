"""`pulsehub digest`: the weekly owner digest — previewed with --dry-run, or sent now."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer
from rich.console import Console

app = typer.Typer(
    rich_markup_mode=None,
    help="The weekly digest per account owner: band changes, new escalations, renewals due.",
    invoke_without_command=True,
)
console = Console()


@app.callback()
def digest(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="print each digest, send nothing")
    ] = False,
    owner: Annotated[str | None, typer.Option(help="only this owner's digest")] = None,
    today: Annotated[
        str | None, typer.Option(help="run as if on YYYY-MM-DD (the week before it)")
    ] = None,
) -> None:
    from model.db import make_session_factory
    from pulsehub.commands.db import open_database, require_database
    from pulsehub.failures import fail
    from pulsehub.runtime import Runtime
    from pulsehub.settings import ConfigError, get_settings
    from reporting.digest import build_digests, render_text
    from sync.digest import week_ending

    try:
        day = dt.date.fromisoformat(today) if today else dt.datetime.now(dt.UTC).date()
    except ValueError:
        fail(f"--today {today!r} is not a date: use YYYY-MM-DD")
    settings = get_settings()
    if not dry_run:
        try:
            rt = Runtime(settings)
            require_database(rt.engine)
            result = rt.digest(day, owner)
        except ConfigError as exc:
            fail(exc)
        console.print(
            f"week ending {result['week_ending']}: {result['with_news']} of {result['owners']} "
            f"owners had news; {result['queued']} message(s) queued, "
            f"{result['pushed']['done']} sent, {result['pushed']['retrying']} to retry, "
            f"{result['pushed']['dead']} refused"
        )
        return
    engine = open_database(settings.database_url)
    d = settings.digest
    channels = [
        c for c, on in (("email", d.email_configured), ("Slack", bool(d.slack_webhook_url))) if on
    ]
    with make_session_factory(engine)() as session:
        digests = build_digests(session, week_ending(day), owner)
    engine.dispose()
    for one in digests:
        to = []
        if d.email_configured:
            to.append(f"email to {one.email}" if one.email else "no email address on file")
        if d.slack_webhook_url:
            to.append("Slack")
        where = ", ".join(to) or "nowhere (no channel configured)"
        console.rule(f"{one.owner}: {'nothing new, not sent' if one.empty else where}")
        console.print(render_text(one), markup=False, highlight=False)
    console.print(
        f"{len(digests)} owner(s); channels: {', '.join(channels) or 'none'} "
        "(PULSEHUB_DIGEST__SMTP_HOST + __FROM_ADDRESS, PULSEHUB_DIGEST__SLACK_WEBHOOK_URL); dry run: nothing sent"
    )
