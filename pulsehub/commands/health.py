"""`pulsehub healthcheck web|worker|beat`: the checks compose (or any supervisor) runs.

Each exits 0 when its process is serving and 1 with one line saying what is not.
"""

from __future__ import annotations

import socket
import time
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(
    rich_markup_mode=None,
    help="Health checks for the web, worker and beat processes.",
    no_args_is_help=True,
)

DEFAULT_SCHEDULE = Path("var/celerybeat-schedule")


def _bad(message: str) -> None:
    typer.echo(f"unhealthy: {message}", err=True)
    raise typer.Exit(1)


@app.command()
def web(
    url: Annotated[
        str, typer.Option(help="the dashboard's /healthz")
    ] = "http://127.0.0.1:8000/healthz",
) -> None:
    """The web process answers /healthz and reaches its database."""
    import httpx

    try:
        resp = httpx.get(url, timeout=5)
    except httpx.HTTPError as exc:
        _bad(f"{url}: {type(exc).__name__}")
        return
    if resp.status_code != 200:
        _bad(f"{url} answered {resp.status_code}: {resp.text[:200]}")
    typer.echo("ok")


@app.command()
def worker(
    node: Annotated[str | None, typer.Option(help="worker node name")] = None,
    timeout: Annotated[float, typer.Option(help="seconds to wait for the reply")] = 5.0,
) -> None:
    """A Celery worker on this host (celery@<hostname>) answers a ping through the broker."""
    from pulsehub.celery_app import celery

    name = node or f"celery@{socket.gethostname()}"
    try:
        replies = celery.control.ping(destination=[name], timeout=timeout)
    except Exception as exc:  # broker unreachable: kombu raises its own and OS errors
        _bad(f"broker unreachable: {type(exc).__name__}")
        return
    if not any(name in r for r in replies):
        _bad(f"no reply from worker {name} within {timeout:g}s")
    typer.echo("ok")


@app.command()
def beat(
    schedule_file: Annotated[Path, typer.Option(help="beat's schedule file")] = DEFAULT_SCHEDULE,
    max_age: Annotated[int, typer.Option(help="seconds since beat last saved it")] = 600,
) -> None:
    """Beat saved its schedule recently (it saves at start and every few minutes)."""
    files = [p for p in schedule_file.parent.glob(f"{schedule_file.name}*") if p.is_file()]
    if not files:
        _bad(f"no schedule file {schedule_file} yet: is beat running with --schedule-file?")
    age = time.time() - max(p.stat().st_mtime for p in files)
    if age > max_age:
        _bad(f"{schedule_file} last saved {age:.0f}s ago (limit {max_age}s)")
    typer.echo("ok")
