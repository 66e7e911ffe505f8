"""Options shared by CLI commands, checked while parsing: a bad value is a usage error that
names the option and what it takes (printed by pulsehub.failures, no traceback)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

DayOpt = Annotated[
    dt.datetime | None,
    typer.Option("--as-of", formats=["%Y-%m-%d"], help="score as of YYYY-MM-DD (default today)"),
]

PortOpt = Annotated[int, typer.Option(min=0, max=65535, help="TCP port (0: any free one)")]
AccountsOpt = Annotated[int, typer.Option(min=1, help="synthetic accounts in the sandbox")]
JsonOpt = Annotated[bool, typer.Option("--json", help="machine-readable output")]
MapOpt = Annotated[Path | None, typer.Option("--map", help="YAML naming the table's columns")]


def database_url(value: str) -> str:
    """A --database option: a URL SQLAlchemy can use, else a usage error naming the forms."""
    from model.db import normalize_database_url

    try:
        return normalize_database_url(value)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None


def subject_kind(value: str) -> str:
    """A --subjects option: the sandbox's template subjects or helpdesk-like ones."""
    from sandbox.subjects import KINDS

    if value not in KINDS:
        raise typer.BadParameter(f"unknown subjects {value!r}; use one of {', '.join(KINDS)}")
    return value


def fault_profile(value: str) -> str:
    """A --faults option: one of the sandbox's fault profiles."""
    from sandbox.faults import PROFILES

    if value not in PROFILES:
        raise typer.BadParameter(
            f"unknown fault profile {value!r}; use one of {', '.join(PROFILES)}"
        )
    return value
