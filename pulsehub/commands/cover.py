"""`pulsehub cover`: out-of-office cover — while a cover is in force, the owner's new tasks
(escalations' and onboarding/handoff ones) go to the covering CSM, then back."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(rich_markup_mode=None, help="Out-of-office cover for account owners.")
console = Console()


def _day(value: str | None, option: str) -> dt.date:
    from pulsehub.failures import fail

    if value is None:
        return dt.datetime.now(dt.UTC).date()
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        fail(f"{option} {value!r} is not a date: use YYYY-MM-DD")


@app.command("add")
def add(
    owner: Annotated[str, typer.Argument(help="the away owner's crm user id")],
    cover: Annotated[str, typer.Argument(help="the covering CSM's crm user id")],
    start: Annotated[str | None, typer.Option("--from", help="first day (default today)")] = None,
    end: Annotated[str, typer.Option("--to", help="last day, YYYY-MM-DD")] = "",
    note: Annotated[str | None, typer.Option(help="why (shown on the workload page)")] = None,
) -> None:
    """Route OWNER's new tasks to COVER from --from through --to."""
    from csops.covers import CoverError, add_cover
    from model.db import make_session_factory, transaction
    from pulsehub.commands.db import open_database
    from pulsehub.failures import fail
    from pulsehub.settings import get_settings

    if not end:
        fail("--to is required: the last day of the cover, YYYY-MM-DD")
    first, last = _day(start, "--from"), _day(end, "--to")
    factory = make_session_factory(open_database(get_settings().database_url))
    try:
        with transaction(factory) as session:
            row = add_cover(session, owner, cover, first, last, note)
            console.print(f"cover {row.id}: {owner}'s new tasks go to {cover} {first} .. {last}")
    except CoverError as exc:
        fail(str(exc))


@app.command("list")
def list_covers() -> None:
    """Covers in force today or later."""
    from csops.covers import upcoming_covers
    from model.db import make_session_factory
    from pulsehub.commands.db import open_database
    from pulsehub.settings import get_settings

    today = dt.datetime.now(dt.UTC).date()
    factory = make_session_factory(open_database(get_settings().database_url))
    table = Table("id", "owner", "cover", "from", "to", "note")
    with factory() as session:
        for c in upcoming_covers(session, today):
            table.add_row(str(c.id), c.owner_crm_id, c.cover_crm_id, str(c.starts_on),
                          str(c.ends_on), c.note or "")  # fmt: skip
    console.print(table)


@app.command("end")
def end_now(cover_id: Annotated[int, typer.Argument(help="the cover's id (cover list)")]) -> None:
    """End a cover today: the owner's tasks go back to them."""
    from csops.covers import CoverError, end_cover
    from model.db import make_session_factory, transaction
    from pulsehub.commands.db import open_database
    from pulsehub.failures import fail
    from pulsehub.settings import get_settings

    factory = make_session_factory(open_database(get_settings().database_url))
    try:
        with transaction(factory) as session:
            row = end_cover(session, cover_id, dt.datetime.now(dt.UTC).date())
            console.print(f"cover {row.id} ends {row.ends_on}")
    except CoverError as exc:
        fail(str(exc))
