"""`pulsehub score ...`: score now, replay history, audit accuracy, override and explain."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from sqlalchemy import select

from model.tables import HealthSnapshot, ScoreOverride, utcnow
from pulsehub.commands.db import command_session
from pulsehub.failures import fail
from scoring.config import Scorecard, ScorecardError, load_scorecard

app = typer.Typer(
    rich_markup_mode=None,
    help="Health scores: run, backfill, audit, override, explain.",
    no_args_is_help=True,
)
console = Console()
DateOpt = Annotated[
    dt.datetime | None, typer.Option("--as-of", formats=["%Y-%m-%d"], help="default: today")
]


def _scorecard(path: Path | None = None) -> Scorecard:
    from pulsehub.settings import get_settings

    try:
        return load_scorecard(path or get_settings().scorecard_file)
    except ScorecardError as exc:
        fail(exc)


def _day(value: dt.datetime | None) -> dt.date:
    return value.date() if value else dt.date.today()


@app.command()
def run(
    as_of: DateOpt = None,
    account: Annotated[list[int] | None, typer.Option(help="only these account ids")] = None,
    scorecard: Annotated[Path | None, typer.Option(help="scorecard YAML")] = None,
) -> None:
    """Score accounts as of a day and store the snapshots."""
    from scoring.service import score_accounts, score_all

    card = _scorecard(scorecard)
    with command_session() as session:
        if account:
            bands = dict(
                Counter(s.band for s in score_accounts(session, _day(as_of), card, account))
            )
        else:
            bands = score_all(session, _day(as_of), card)  # in batches: flat memory
    console.print(f"scored {sum(bands.values())} accounts: {bands}")


@app.command()
def backfill(
    days: Annotated[int, typer.Option(help="how far back to start")] = 365,
    step: Annotated[int, typer.Option(help="days between snapshots")] = 7,
    end: DateOpt = None,
    scorecard: Annotated[Path | None, typer.Option(help="scorecard YAML")] = None,
) -> None:
    """Replay history: a snapshot every STEP days, oldest first (trend, audit, lead time)."""
    from scoring.service import backfill_snapshots

    card = _scorecard(scorecard)
    last = _day(end)
    with command_session() as session:
        written = backfill_snapshots(session, last - dt.timedelta(days=days), last, card, step)
    console.print(f"wrote {written} snapshots from {last - dt.timedelta(days=days)} to {last}")


@app.command()
def audit(
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
    csv: Annotated[
        Path | None, typer.Option("--csv", help="audit a CSV of per-account measures")
    ] = None,
    outcome: Annotated[
        str | None, typer.Option(help="the CSV's outcome column (1 = churned)")
    ] = None,
    save_model: Annotated[
        Path | None, typer.Option(help="fit renewal risk on history, save JSON")
    ] = None,
    method: Annotated[
        str, typer.Option(help="logistic | isotonic | learned | selected")
    ] = "selected",
    bootstrap: Annotated[int, typer.Option(help="bootstrap rounds for the AUC interval")] = 500,
    horizon_days: Annotated[
        int | None, typer.Option(help="default: the scorecard's risk.horizon_days")
    ] = None,
    min_lead_days: Annotated[int | None, typer.Option(help="default: risk.min_lead_days")] = None,
    scorecard: Annotated[Path | None, typer.Option(help="scorecard YAML")] = None,
) -> None:
    """Backtest the scorecard against what actually churned (stored snapshots, or a CSV)."""
    from scoring.audit import audit_csv, audit_database, fit_from_database
    from scoring.report import render_report

    card = _scorecard(scorecard)
    windows = {"horizon_days": horizon_days, "min_lead_days": min_lead_days}
    windows = {k: v for k, v in windows.items() if v is not None}
    if windows:
        card = card.model_copy(update={"risk": card.risk.model_copy(update=windows)})
    if csv is not None:
        if not outcome:
            fail("--csv needs --outcome COLUMN (the CSV's churned column)")
        try:
            report = audit_csv(csv, outcome, card, bootstrap_rounds=bootstrap)
        except (OSError, ValueError) as exc:
            fail(f"--csv {csv}: {exc}")
    else:
        with command_session() as session:
            report = audit_database(session, card, bootstrap_rounds=bootstrap)
            if save_model is not None:
                cal = report["calibration"]
                chosen = method
                if method == "selected":  # the learned model only if it beat the scorecard
                    beats = cal.get("learned", {}).get("beats_scorecard")
                    chosen = "learned" if beats else cal.get("selected", "logistic")
                model = fit_from_database(session, card, chosen)
                save_model.write_text(model.to_json())
                report["saved_model"] = {"path": str(save_model), "kind": model.kind}
    if as_json:
        typer.echo(json.dumps(report, indent=2, default=str))
    else:
        typer.echo(render_report(report))
        if "saved_model" in report:
            typer.echo(
                f"\nsaved {report['saved_model']['kind']} model to {save_model}; set risk.model_file"
            )
    if report.get("bands_ordered") is False:
        raise typer.Exit(1)


@app.command()
def override(
    account_id: int,
    reason: Annotated[str, typer.Option(help="why the CSM knows better")],
    band: Annotated[str | None, typer.Option(help="red | yellow | green")] = None,
    score: Annotated[float | None, typer.Option(min=0, max=100)] = None,
    days: Annotated[int, typer.Option(min=1, help="expires after this many days")] = 30,
    author: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Override an account's band and/or score until it expires (both values are kept)."""
    if band is None and score is None:
        fail("give --band and/or --score")
    if band is not None and band not in ("red", "yellow", "green"):
        fail("--band must be red, yellow or green")
    expires = utcnow() + dt.timedelta(days=days)
    with command_session() as session:
        row = ScoreOverride(account_id=account_id, band=band, score=score, reason=reason,
                            author=author, expires_at=expires)  # fmt: skip
        session.add(row)
        session.flush()
        console.print(
            f"override {row.id} on account {account_id} until {expires:%Y-%m-%d %H:%M} UTC"
        )


@app.command()
def revoke(override_id: int) -> None:
    """Revoke an override now; the next scoring run restores the computed values."""
    with command_session() as session:
        row = session.get(ScoreOverride, override_id)
        if row is None:
            fail(f"no override {override_id} — see `pulsehub score explain ACCOUNT_ID`")
        row.revoked = True
    console.print(f"override {override_id} revoked")


@app.command()
def explain(account_id: int) -> None:
    """The latest snapshot of an account: score, band, reasons, contradictions, renewal risk."""
    with command_session() as session:
        snap = session.scalars(
            select(HealthSnapshot).where(HealthSnapshot.account_id == account_id)
            .order_by(HealthSnapshot.as_of.desc()).limit(1)
        ).first()  # fmt: skip
        if snap is None:
            console.print(f"no snapshot for account {account_id}")
            raise typer.Exit(1)
        console.print(f"account {account_id} as of {snap.as_of}: {snap.band} {snap.score} "
                      f"(computed {snap.computed_band} {snap.computed_score}; profile {snap.profile}, "
                      f"coverage {snap.coverage}, 28d trend {snap.trend_28d})")  # fmt: skip
        for r in snap.reasons:
            console.print(f"  -{r.get('points_lost', 0):5.1f}  {r['text']}")
        for c in snap.contradictions:
            console.print(f"  contradiction: {c['text']}")
        console.print(f"renewal risk {snap.renewal_risk} ({snap.risk_level})")
        for d in snap.risk_drivers:
            console.print(f"  driver: {d['text']}")
