"""How the command line reports what went wrong: one or two lines naming what is wrong and the
fix, a traceback only with -v. Bad arguments, every `PulsehubError` (configuration, connectors)
and unusable databases all end here; anything else is a bug and keeps its traceback."""

from __future__ import annotations

import traceback
from typing import NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from typer._click import exceptions as cli  # typer parses with its own copy of click

from connectors.errors import ConfigError, PulsehubError

stderr = Console(stderr=True, soft_wrap=True, highlight=False)
CONFIG_EXIT = 2


def explain(exc: BaseException) -> str | None:
    """The operator's message for an expected failure; None when `exc` is a bug."""
    from sqlalchemy.exc import DBAPIError

    from model.db import explain_database_error

    if isinstance(exc, cli.UsageError):
        command = exc.ctx.command_path if exc.ctx else "pulsehub"
        message = exc.format_message().replace("Value error, ", "")
        return f"{command}: {message} — see `{command} --help`"
    if isinstance(exc, PulsehubError):
        return str(exc)
    if isinstance(exc, DBAPIError):
        problem = explain_database_error(exc)
        return f"database: {problem}" if problem else None
    return None


def exit_code(exc: BaseException, *, verbose: bool) -> int:
    """Print `exc` for the operator and return the exit status; re-raise it when it is a bug."""
    if isinstance(exc, typer.Abort):
        stderr.print("Aborted!")
        return 1
    help_asked = isinstance(exc, cli.NoArgsIsHelpError)
    if isinstance(exc, cli.ClickException) and (help_asked or not isinstance(exc, cli.UsageError)):
        exc.show()  # the help of a bare `pulsehub db`, or a click error that reads well as it is
        return exc.exit_code
    message = explain(exc)
    if message is None:
        raise exc
    if verbose:
        traceback.print_exception(exc)
    stderr.print(f"[bold red]error:[/] {escape(message)}")
    return exc.exit_code if isinstance(exc, cli.ClickException) else CONFIG_EXIT


def fail(problem: str | ConfigError) -> NoReturn:
    """Inside a command: report `problem` exactly as `pulsehub.cli.run` would, and exit 2."""
    error = problem if isinstance(problem, ConfigError) else ConfigError(problem)
    raise typer.Exit(exit_code(error, verbose=False))
