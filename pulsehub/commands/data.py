"""`pulsehub data ...`: a customer's data requests — export, delete (erase), relink, audit."""

from __future__ import annotations

import getpass
import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from model.tables import DataRequest
from pulsehub.commands.db import command_session

app = typer.Typer(
    rich_markup_mode=None,
    help="Data requests: export or erase everything held about one account.",
    no_args_is_help=True,
)
console = Console()
err = Console(stderr=True)

AccountArg = Annotated[str, typer.Argument(help="account id, or its name (exact or unique part)")]
ActorOpt = Annotated[
    str | None, typer.Option(help="who asked, for the audit line (default: your login name)")
]


def _actor(actor: str | None) -> str:
    try:
        return actor or getpass.getuser()
    except Exception:  # no login name (a container without a passwd entry)
        return "unknown"


def _resolve(session, text: str) -> int:  # type: ignore[no-untyped-def]
    from reporting.accounts import find_account

    account_id, why = find_account(session, text)
    if account_id is None:
        err.print(f"data: {why}")
        raise typer.Exit(2)
    return account_id


@app.command()
def export(
    account: AccountArg,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="write to this file (default: stdout)")
    ] = None,
    actor: ActorOpt = None,
) -> None:
    """Everything pulsehub holds about one account, as JSON (see `pulsehub data schema`)."""
    from reporting.data_export import build_export

    with command_session() as session:
        account_id = _resolve(session, account)
        document = build_export(session, account_id)
        rows = {name: len(rows) for name, rows in document["tables"].items()}
        session.add(DataRequest(kind="export", account_id=account_id, actor=_actor(actor),
                                counts={"rows": rows}))  # fmt: skip
    text = json.dumps(document, indent=2, sort_keys=False)
    if output is None:
        typer.echo(text)
    else:
        output.write_text(text + "\n")
        err.print(f"wrote {sum(rows.values())} rows about account #{account_id} to {output}")


@app.command()
def schema() -> None:
    """The JSON Schema every `data export` document validates against."""
    from reporting.data_export import export_schema

    typer.echo(json.dumps(export_schema(), indent=2))


@app.command()
def delete(
    account: AccountArg,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="do not ask for confirmation")] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="count what would go; change nothing")
    ] = False,
    actor: ActorOpt = None,
) -> None:
    """Erase one account and every row about it; its source records are not pulled again
    until `pulsehub data relink`. Keeps an audit line (who, when, how many rows)."""
    from sync.erasure import erase_account

    with command_session() as session:
        account_id = _resolve(session, account)
        result = erase_account(session, account_id, _actor(actor))
        summary = ", ".join(f"{n} {table}" for table, n in sorted(result.rows.items()))
        what = (
            f"account #{account_id}: {result.total} rows ({summary}); "
            f"{result.erased_keys} source keys suppressed"
        )
        if dry_run:
            session.rollback()
            console.print(f"dry run — would erase {what}. Nothing was changed.")
            return
        if not yes and not typer.confirm(f"Erase {what}? This cannot be undone", default=False):
            session.rollback()
            err.print("data delete: cancelled, nothing was changed")
            raise typer.Exit(1)
    console.print(
        f"erased {what}. Audit line: data request #{result.request_id}; "
        f"`pulsehub data relink {result.request_id}` lets the sources bring it back."
    )


@app.command()
def relink(
    request_id: Annotated[int, typer.Argument(help="the erasure's data request id")],
    actor: ActorOpt = None,
) -> None:
    """Lift an erasure: the account's records come back the next time a pull sends them
    (the nightly reconcile re-reads the sources whole)."""
    from sync.erasure import NothingToErase
    from sync.erasure import relink as lift

    with command_session() as session:
        try:
            lifted = lift(session, request_id, _actor(actor))
        except NothingToErase as exc:
            err.print(f"data relink: {exc}")
            raise typer.Exit(2) from None
    console.print(f"lifted erasure #{request_id}: {lifted} source keys may be pulled again")


@app.command()
def requests(limit: int = 50) -> None:
    """The audit trail of data requests (newest first)."""
    with command_session() as session:
        from reporting.data_export import recent_data_requests

        rows = recent_data_requests(session, limit)
        table = Table(title="Data requests")
        for col in ("id", "when", "kind", "account", "by", "counts"):
            table.add_column(col)
        for r in rows:
            table.add_row(
                str(r.id), r.created_at.strftime("%Y-%m-%d %H:%M"), r.kind,
                f"#{r.account_id}", r.actor, json.dumps(r.counts, sort_keys=True),
            )  # fmt: skip
    console.print(table)
