"""The `pulsehub` command line (typer). Wiring only: each command calls into the packages."""

from __future__ import annotations

import errno
import json
import logging
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from pulsehub.commands.health import DEFAULT_SCHEDULE
from pulsehub.commands.options import (
    AccountsOpt,
    DayOpt,
    PortOpt,
    database_url,
    fault_profile,
    subject_kind,
)
from pulsehub.failures import exit_code
from pulsehub.settings import ConfigError, get_settings

app = typer.Typer(
    rich_markup_mode=None,
    help="pulsehub: customer-health hub for Salesforce, Zendesk and product usage.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(rich_markup_mode=None, help="Database schema.", no_args_is_help=True)
sandbox_app = typer.Typer(
    rich_markup_mode=None, help="The loopback simulator of Salesforce, Zendesk and the usage API."
)
outbox_app = typer.Typer(
    rich_markup_mode=None,
    help="Write-back outbox: drain it, retry dead letters.",
    no_args_is_help=True,
)
identity_app = typer.Typer(
    rich_markup_mode=None, help="Identity resolution review queue.", no_args_is_help=True
)
app.add_typer(db_app, name="db")
app.add_typer(sandbox_app, name="sandbox")
app.add_typer(outbox_app, name="outbox")
app.add_typer(identity_app, name="identity")
console = Console()
_verbose = {"on": False}  # set by the -v callback; decides whether a failure shows its traceback


def _register_subcommands() -> None:
    """Sub-apps owned by their packages' commands modules (pulsehub/commands/*)."""
    from importlib import import_module

    for name, module in (
        ("score", "pulsehub.commands.score"),
        ("escalations", "pulsehub.commands.escalations"),
        ("report", "pulsehub.commands.report"),
        ("healthcheck", "pulsehub.commands.health"),
        ("digest", "pulsehub.commands.digest"),
        ("cover", "pulsehub.commands.cover"),
        ("data", "pulsehub.commands.data"),
    ):
        try:
            app.add_typer(import_module(module).app, name=name)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise


def _runtime():  # type: ignore[no-untyped-def]
    """The wiring for a command, once settings and the database are known to be usable."""
    from pulsehub.commands.db import require_database
    from pulsehub.runtime import Runtime

    rt = Runtime(get_settings())
    require_database(rt.engine)
    return rt


@app.callback()
def main(
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="debug logs; tracebacks on errors")
    ] = False,
) -> None:
    from pulsehub.logs import configure_logging, log_format

    _verbose["on"] = verbose
    level = logging.DEBUG if verbose else logging.WARNING
    configure_logging(level, log_format())  # a bad PULSEHUB_LOG_FORMAT is a ConfigError


@db_app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Create or migrate the schema (Alembic)."""
    from model.db import redact_url
    from pulsehub.commands.db import upgrade_database

    url = get_settings().database_url
    upgrade_database(url, revision)
    console.print(f"database {redact_url(url)} at revision {revision}")


@app.command()
def sync(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="print the write plan, write nothing")
    ] = False,
    as_of: DayOpt = None,
    full_score: Annotated[
        bool,
        typer.Option(
            "--full-score",
            help="re-score every account, not only those whose inputs changed today",
        ),
    ] = False,
) -> None:
    """Run one sync: pull, resolve, score, escalate, write back."""
    from pulsehub.report import SyncProgress, print_plan, print_run
    from sync.pipeline import SourcesUnavailable

    rt = _runtime()
    if full_score:
        rt.job_config.incremental = False
    try:
        with SyncProgress(console) as progress:
            report = rt.sync(
                dry_run=dry_run, as_of=as_of.date() if as_of else None, progress=progress
            )
    except SourcesUnavailable as exc:
        console.print(f"[bold red]sync failed:[/] {exc}")
        raise typer.Exit(1) from None
    print_run(console, report)
    if dry_run:
        print_plan(console, report.plan_sample, sum(report.planned.values()))
    if report.errors:
        raise typer.Exit(1)


@outbox_app.command("drain")
def outbox_drain() -> None:
    """Push every due outbox item now."""
    console.print_json(json.dumps(_runtime().drain()))


@outbox_app.command("retry")
def outbox_retry(item_ids: list[int]) -> None:
    """Put dead letters back in the queue."""
    from model.db import transaction
    from sync.outbox import retry_dead

    with transaction(_runtime().factory) as session:
        n = retry_dead(session, item_ids)
    console.print(f"{n} item(s) re-queued")


@app.command()
def status(limit: int = 10) -> None:
    """Recent runs, cursors, outbox backlog, dead letters and quarantine."""
    from model.db import transaction
    from pulsehub.report import print_status
    from sync.runs import reap_dead_runs

    factory = _runtime().factory
    with transaction(factory) as session:
        reap_dead_runs(session)
    print_status(console, factory, limit=limit)


@identity_app.command("review")
def identity_review() -> None:
    """List ambiguous and unmatched external records with their candidates."""
    from pulsehub.report import print_identity_review

    print_identity_review(console, _runtime().factory)


@identity_app.command("link")
def identity_link(identity_id: int, account_id: int) -> None:
    """Link an external record to an account (persists across syncs)."""
    from model.db import transaction
    from model.identity import decide

    with transaction(_runtime().factory) as session:
        decide(session, identity_id, account_id)
    console.print(f"identity {identity_id} linked to account {account_id}")


@identity_app.command("reject")
def identity_reject(identity_id: int) -> None:
    """Mark an external record as belonging to no account."""
    from model.db import transaction
    from model.identity import decide

    with transaction(_runtime().factory) as session:
        decide(session, identity_id, None, reject=True)
    console.print(f"identity {identity_id} rejected")


@sandbox_app.command("serve")
def sandbox_serve(
    port: PortOpt = 8765,
    accounts: AccountsOpt = 200,
    seed: int = 7,
    faults: Annotated[
        str, typer.Option(help="none | flaky | storm", callback=fault_profile)
    ] = "none",
    clock: Annotated[
        str, typer.Option(help="real, or a fixed ISO start such as 2025-06-02T15:30:00Z")
    ] = "real",
    print_env: Annotated[
        bool,
        typer.Option(
            "--print-env",
            help="print `export PULSEHUB_...` lines for every variable pulsehub needs",
        ),
    ] = False,
    second_helpdesk_port: Annotated[
        int | None,
        typer.Option(
            help="also serve a second helpdesk instance (an acquired company's: some customers "
            "in both, colliding ids) on this port; its source is printed"
        ),
    ] = None,
    export_per_minute: Annotated[
        int,
        typer.Option(
            min=1,
            help="Zendesk incremental-export requests allowed a minute (real Zendesk: 10, or "
            "100 with the High Volume add-on); raise it to build a large book quickly for a "
            "benchmark whose subject is not the first sync",
        ),
    ] = 100,
    subjects: Annotated[
        str,
        typer.Option(
            help="ticket subjects: templates (a dozen, repeated: the default worlds) or helpdesk "
            "(mostly distinct, long-tailed words and recurring problems per account, as a real "
            "helpdesk's)",
            callback=subject_kind,
        ),
    ] = "templates",
) -> None:
    """Serve the simulated Salesforce, Zendesk and usage APIs on 127.0.0.1 until Ctrl-C."""
    from sandbox import cli_main
    from sandbox.clock import parse_clock

    try:
        parse_clock(clock)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--clock") from None
    try:
        cli_main(
            port=port, accounts=accounts, seed=seed, faults=faults, clock=clock,
            print_env=print_env, second_helpdesk_port=second_helpdesk_port,
            export_per_minute=export_per_minute, subjects=subjects,
        )  # fmt: skip
    except OSError as exc:
        if exc.errno not in (errno.EADDRINUSE, errno.EACCES, errno.EADDRNOTAVAIL):
            raise
        raise ConfigError(
            f"--port {port}: cannot listen on 127.0.0.1:{port} ({exc.strerror}) — "
            "stop what holds it or choose another port with --port"
        ) from exc


@app.command()
def demo(
    accounts: AccountsOpt = 400,  # the fewest whose replayed weeks fit a renewal-risk model
    seed: int = 7,
    database: Annotated[
        str, typer.Option(help="database URL", callback=database_url)
    ] = "sqlite:///var/demo.db",
    crm: Annotated[
        str, typer.Option(help="the crm the sandbox plays: salesforce or hubspot")
    ] = "salesforce",
    helpdesk: Annotated[
        str, typer.Option(help="the helpdesk the sandbox plays: zendesk or freshdesk")
    ] = "zendesk",
) -> None:
    """Run the whole pipeline against the in-process sandbox on a fresh embedded database."""
    from pulsehub.demo import CRMS, HELPDESKS, run_demo

    if crm not in CRMS:
        raise typer.BadParameter(f"use one of: {', '.join(CRMS)}", param_hint="--crm")
    if helpdesk not in HELPDESKS:
        raise typer.BadParameter(f"use one of: {', '.join(HELPDESKS)}", param_hint="--helpdesk")
    code = run_demo(
        console, accounts=accounts, seed=seed, database_url=database, crm=crm, helpdesk=helpdesk
    )
    raise typer.Exit(code)


@app.command()
def worker(concurrency: int = 2, loglevel: str = "INFO") -> None:
    """Run a Celery worker (Redis broker from PULSEHUB_BROKER_URL)."""
    _runtime().close()  # settings, configs and the database are usable before tasks arrive
    from pulsehub.celery_app import celery

    celery.worker_main(["worker", f"--concurrency={concurrency}", f"--loglevel={loglevel}"])


@app.command()
def beat(
    loglevel: str = "INFO",
    schedule_file: Annotated[
        Path, typer.Option(help="where beat keeps its schedule state (a writable path)")
    ] = DEFAULT_SCHEDULE,
) -> None:
    """Run Celery beat with the configured schedule."""
    from pulsehub.celery_app import celery

    schedule_file.parent.mkdir(parents=True, exist_ok=True)
    celery.start(["beat", f"--loglevel={loglevel}", f"--schedule={schedule_file}"])


@app.command()
def web(host: str = "127.0.0.1", port: PortOpt = 8000) -> None:
    """Serve the dashboard, API and Zendesk webhook."""
    import uvicorn

    from model.db import make_session_factory
    from pulsehub.commands.db import open_database
    from pulsehub.logs import configure_logging, log_format
    from pulsehub.web.app import create_app

    # uvicorn's loggers write through the root handler: one format (text or JSON) for all,
    # at PULSEHUB_LOG_LEVEL (a long-running service logs its requests and start-up)
    settings = get_settings()  # read here, so a bad setting or database fails before serving
    engine = open_database(settings.database_url)
    level = logging.getLevelName(settings.log_level.upper())
    configure_logging(level if isinstance(level, int) else logging.INFO, log_format())
    application = create_app(settings, make_session_factory(engine))
    uvicorn.run(application, host=host, port=port, log_config=None)


_register_subcommands()


def run() -> None:
    """The console script: a bad argument, setting, file or database is one message, exit 2."""
    try:
        code = app(standalone_mode=False)
    except Exception as exc:
        sys.exit(exit_code(exc, verbose=_verbose["on"]))
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    run()
