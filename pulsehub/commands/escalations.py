"""`pulsehub escalations ...`: the quarterly review report, the list, and acknowledging one."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from escalation.report import EscalationReport, GroupStats, build_report
from model.tables import Escalation, utcnow
from pulsehub.commands.db import command_session
from pulsehub.commands.options import JsonOpt
from reporting.escalations import recent_escalations

app = typer.Typer(
    rich_markup_mode=None,
    help="Escalations: review patterns, list and acknowledge.",
    no_args_is_help=True,
)
console = Console()


def _hours(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def _stats_table(title: str, rows: list[GroupStats], first: str) -> Table:
    table = Table(title=title)
    for col in (first, "escalations", "open", "sev1", "sev2", "sev3", "sev4"):
        table.add_column(col, justify="left" if col == first else "right")
    for col in ("ack h (median)", "resolve h (median)", "resolve h (p90)"):
        table.add_column(col, justify="right")
    for r in rows:
        table.add_row(
            r.name,
            str(r.escalations),
            str(r.open),
            str(r.sev1),
            str(r.sev2),
            str(r.sev3),
            str(r.sev4),
            _hours(r.median_ack_hours),
            _hours(r.median_resolve_hours),
            _hours(r.p90_resolve_hours),
        )
    return table


def print_report(out: Console, report: EscalationReport) -> None:
    since = report.since.date().isoformat() if report.since else "the beginning"
    t = report.total
    out.print(
        f"[bold]Escalations from {since} to {report.until.date().isoformat()}[/]: "
        f"{t.escalations} opened, {t.open} still open, median time to acknowledge "
        f"{_hours(t.median_ack_hours)} h, to resolve {_hours(t.median_resolve_hours)} h"
    )
    out.print(_stats_table("Per severity", report.per_severity, "severity"))
    out.print(_stats_table("Per rule", report.per_rule, "rule"))
    out.print(_stats_table("Per customer", report.per_customer, "customer"))
    repeats = Table(title="Repeat issues (repeated-issue escalations and reopened ones)")
    for col in ("customer", "escalation", "state", "linked tickets", "episodes"):
        repeats.add_column(col)
    for r in report.repeat_issues:
        repeats.add_row(r.account, r.title, r.state, str(r.linked_tickets), str(r.episodes))
    out.print(repeats)
    reviews = Table(title="Post-incident reviews (Sev1/Sev2)")
    for col in ("due", "customer", "escalation", "severity", "overdue"):
        reviews.add_column(col)
    for v in report.reviews:
        reviews.add_row(
            v.due_at.strftime("%Y-%m-%d %H:%M"),
            v.account,
            v.title,
            v.severity,
            "[red]yes[/]" if v.overdue else "no",
        )
    out.print(reviews)
    rca = report.rca
    share = "-" if rca.compliance is None else f"{rca.compliance:.0%}"
    out.print(
        f"[bold]RCA compliance[/]: {share} done within the due time "
        f"({rca.done_on_time} of {rca.done + rca.overdue} due; {rca.owed} owed, "
        f"{rca.done} done, {rca.overdue} overdue)"
    )


@app.command()
def report(
    days: Annotated[int, typer.Option(help="look back this many days (a quarter by default)")] = 90,
    since: Annotated[
        dt.datetime | None,
        typer.Option(formats=["%Y-%m-%d"], help="start date YYYY-MM-DD (overrides --days)"),
    ] = None,
    top: Annotated[int, typer.Option(help="rows in the per-customer and repeat tables")] = 20,
    as_json: JsonOpt = False,
) -> None:
    """Per customer, per rule, per severity, repeat issues, time to acknowledge/resolve."""
    now = utcnow()
    start = since.replace(tzinfo=dt.UTC) if since else now - dt.timedelta(days=days)
    with command_session() as session:
        result = build_report(session, now, since=start, top=top)
    if as_json:
        typer.echo(result.model_dump_json(indent=2))
    else:
        print_report(console, result)


@app.command("list")
def list_escalations(
    state: Annotated[str | None, typer.Option(help="open, acknowledged or resolved")] = None,
    account: Annotated[int | None, typer.Option(help="account id")] = None,
    limit: int = 50,
    as_json: JsonOpt = False,
) -> None:
    """The most recently updated escalations."""
    with command_session() as session:
        rows = [
            {
                "id": e.id,
                "account": name,
                "rule": e.rule,
                "severity": e.severity,
                "state": e.state,
                "title": e.title,
                "opened_at": e.opened_at.isoformat(),
                "helpdesk_ticket_id": e.helpdesk_ticket_id,
                "dedup_key": e.dedup_key,
            }
            for e, name in recent_escalations(session, state, account, limit)
        ]
    if as_json:
        typer.echo(json_dumps(rows))
        return
    table = Table(title="Escalations")
    for col in ("id", "severity", "state", "customer", "rule", "opened", "ticket", "title"):
        table.add_column(col)
    for r in rows:
        table.add_row(
            str(r["id"]),
            str(r["severity"]).upper(),
            str(r["state"]),
            str(r["account"]),
            str(r["rule"]),
            str(r["opened_at"])[:16],
            str(r["helpdesk_ticket_id"] or "-"),
            str(r["title"]),
        )
    console.print(table)


@app.command()
def ack(
    escalation_id: int,
    by: Annotated[str | None, typer.Option(help="who takes it")] = None,
) -> None:
    """Acknowledge an open escalation (starts the time-to-resolve clock for the report)."""
    from escalation.lifecycle import acknowledge

    with command_session() as session:
        esc = session.get(Escalation, escalation_id)
        if esc is None:
            console.print(f"[red]no escalation {escalation_id}[/]")
            raise typer.Exit(1)
        if not acknowledge(esc, utcnow(), by=by):
            console.print(f"escalation {escalation_id} is {esc.state}; nothing to acknowledge")
            raise typer.Exit(1)
    console.print(f"escalation {escalation_id} acknowledged")


@app.command()
def resolve(
    escalation_id: int,
    note: Annotated[str, typer.Option(help="resolution note for the ticket and the record")],
) -> None:
    """Resolve by hand: note on the ticket, tags removed, review task for Sev1/Sev2 (via outbox)."""
    from escalation.config import load_rules
    from pulsehub.escalation_systems import configured_systems
    from pulsehub.settings import get_settings
    from sync.escalate import resolve_by_hand

    settings = get_settings()
    rules = load_rules(settings.rules_file)
    with command_session() as session:
        esc = session.get(Escalation, escalation_id)
        if esc is None or esc.state == "resolved":
            console.print(f"[red]no active escalation {escalation_id}[/]")
            raise typer.Exit(1)
        group_id, systems = settings.zendesk.escalation_group_id, configured_systems(settings)
        queued = resolve_by_hand(session, esc, rules, note, group_id, systems)
    console.print(f"escalation {escalation_id} resolved; {queued} write(s) queued in the outbox")


def json_dumps(value: object) -> str:
    import json

    return json.dumps(value, indent=2, default=str)


@app.command()
def replay(
    start: Annotated[dt.datetime, typer.Option(formats=["%Y-%m-%d"], help="first day YYYY-MM-DD")],
    end: Annotated[
        dt.datetime | None, typer.Option(formats=["%Y-%m-%d"], help="last day (default today)")
    ] = None,
    step_days: Annotated[int, typer.Option(help="evaluate every N days")] = 7,
    as_json: JsonOpt = False,
) -> None:
    """Replay the rules over stored history (rolled back): volume and churn lead time."""
    from escalation.config import load_rules
    from escalation.replay import replay as run_replay
    from model.db import make_session_factory
    from pulsehub.commands.db import open_database
    from pulsehub.settings import get_settings

    settings = get_settings()
    engine = open_database(settings.database_url)
    try:
        with make_session_factory(engine)() as session:
            try:
                result = run_replay(
                    session,
                    start.date(),
                    end.date() if end else utcnow().date(),
                    load_rules(settings.rules_file),
                    step_days=step_days,
                )
            finally:
                session.rollback()
    finally:
        engine.dispose()
    if as_json:
        typer.echo(result.model_dump_json(indent=2))
        return
    t = Table(title=f"Rules replayed {result.start} .. {result.end} every {step_days} days")
    t.add_column("measure")
    t.add_column("value", justify="right")
    t.add_row("accounts with snapshots", str(result.accounts))
    t.add_row("escalations opened", str(result.episodes))
    t.add_row("per 1,000 accounts (window)", f"{result.per_1000_accounts:.1f}")
    t.add_row("per 1,000 accounts per 30 days", f"{result.per_1000_accounts_per_30d:.1f}")
    t.add_row("by severity", ", ".join(f"{k}: {v}" for k, v in result.by_severity.items()))
    t.add_row("by rule", ", ".join(f"{k}: {v}" for k, v in result.by_rule.items()))
    t.add_row("accounts churned in window", str(result.churned))
    t.add_row("... escalated before churning", str(result.churned_escalated_first))
    t.add_row("median days of warning", str(result.lead_days_median))
    t.add_row(
        "escalated accounts that churned",
        f"{result.escalated_accounts_churned} of {result.escalated_accounts}",
    )
    console.print(t)


@app.command("rca-done")
def rca_done(
    escalation_id: int,
    by: Annotated[str, typer.Option(help="who did the RCA, for the record")] = "operator",
) -> None:
    """Mark the root-cause analysis of an engineering escalation done (see /rcas)."""
    from sync.reviews import mark_rca_done

    with command_session() as session:
        try:
            review = mark_rca_done(session, escalation_id, by, utcnow())
        except LookupError as exc:
            Console(stderr=True).print(f"escalations rca-done: {exc}")
            raise typer.Exit(2) from None
        late = review.done_at is not None and review.done_at > review.due_at
    console.print(f"RCA of escalation {escalation_id} marked done{' (late)' if late else ''}")
