"""`pulsehub score ...`: score now, replay history, fit renewal risk, audit accuracy, override, explain."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from model.tables import ScoreOverride, utcnow
from pulsehub.commands.db import command_session
from pulsehub.commands.options import JsonOpt, MapOpt
from pulsehub.failures import fail
from reporting.accounts import latest_snapshot
from scoring.config import Scorecard, ScorecardError, load_scorecard

app = typer.Typer(
    rich_markup_mode=None,
    help="Health scores: run, backfill, fit, audit, override, explain.",
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
    as_json: JsonOpt = False,
    csv: Annotated[
        Path | None, typer.Option("--csv", help="audit any churn table (with --map)")
    ] = None,
    map_file: MapOpt = None,
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
    """Backtest the scorecard against what actually churned (stored snapshots, or any table);
    from the database it also stores the weekly drift and override audit the dashboard shows."""
    from model.orm import utcnow
    from scoring.audit import audit_database, fit_from_database
    from scoring.drift import drift_report
    from scoring.lead_time import lead_time_report
    from scoring.report import render_report, render_table_report
    from scoring.trust import store_trust_audit

    card = _scorecard(scorecard)
    windows = {"horizon_days": horizon_days, "min_lead_days": min_lead_days}
    windows = {k: v for k, v in windows.items() if v is not None}
    if windows:
        card = card.model_copy(update={"risk": card.risk.model_copy(update=windows)})
    if csv is not None:
        report = _table_report(csv, map_file, card, bootstrap, fit_only=False)
        typer.echo(json.dumps(report, indent=2) if as_json else render_table_report(report))
        return
    with command_session() as session:
        report = audit_database(session, card, bootstrap_rounds=bootstrap)
        report["lead_time_by_days"] = lead_time_report(session)
        report["drift"] = drift_report(session)
        trust = store_trust_audit(  # the dashboard's audit page shows the newest one
            session, now=utcnow(), horizon_days=card.risk.horizon_days, source="score audit"
        )
        report["weekly_drift"] = trust.report["drift"]
        report["overrides"] = trust.report["overrides"]
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


def _table_report(
    csv: Path, map_file: Path | None, card: Scorecard, bootstrap: int, *, fit_only: bool
) -> dict[str, Any]:
    """Read a table through its map and audit (or only fit) it; errors exit 2 with the reason."""
    from scoring.table import TableError, load_map, read_table
    from scoring.table_audit import audit_table, fit_table

    if map_file is None:
        fail("--csv needs --map MAP.yaml naming the table's columns (see scoring/table.py)")
    try:
        table_map = load_map(map_file)
        table = read_table(csv, table_map)
        if fit_only:
            fitted = fit_table(table, table_map) or {}
            fitted.pop("_oof", None)
            return {"source": str(csv), "rows": len(table.labels), **fitted}
        return audit_table(table, table_map, card, bootstrap_rounds=bootstrap)
    except TableError as exc:
        fail(exc)


@app.command()
def fit(
    as_json: JsonOpt = False,
    csv: Annotated[
        Path | None, typer.Option("--csv", help="fit and cross-validate on a table instead")
    ] = None,
    map_file: MapOpt = None,
    horizon_days: Annotated[
        int | None, typer.Option(help="default: the scorecard's risk.horizon_days")
    ] = None,
    scorecard: Annotated[Path | None, typer.Option(help="scorecard YAML")] = None,
) -> None:
    """Fit the renewal-risk model on the database's history and store it as the new version."""
    from scoring.fit import NotEnoughHistory
    from scoring.risk_store import fit_from_database, save_model

    card = _scorecard(scorecard)
    if csv is not None:
        report = _table_report(csv, map_file, card, 0, fit_only=True)
        typer.echo(json.dumps(report, indent=2))
        return
    horizon = horizon_days or card.risk.horizon_days
    with command_session() as session:
        try:
            result = fit_from_database(session, horizon, card.bands.fit)
        except NotEnoughHistory as exc:
            console.print(f"[bold yellow]not fitted:[/] {exc}")
            raise typer.Exit(1) from None
        version = save_model(session, result, "database").id
    if as_json:
        typer.echo(json.dumps({"version": version, **result.metrics}, indent=2))
        return
    m = result.metrics
    console.print(
        f"stored renewal-risk model v{version}: P(next renewal lost) within {horizon} days, "
        f"{m['outcomes']} renewals ({m['lost']} lost) from {m['accounts']} accounts"
    )
    console.print(
        f"cross-validated by account: AUC {m['cv_auc']}, Brier {m['cv_brier']} "
        f"(base rate {m['base_rate_brier']}), calibration slope {m['calibration_slope']}"
    )
    bands = m.get("bands")
    if bands:
        console.print(
            f"bands fitted for lead time: red below {bands['red_below']} (catches "
            f"{bands['red_detected']:.0%} of lost renewals {bands['lead_days'] // 2}-"
            f"{bands['lead_days'] * 3 // 2} days ahead at {bands['red_false_alarms']:.0%} false "
            f"alarms), green at {bands['green_at']}"
        )
    elif card.bands.fit is not None:
        console.print("bands: too few judged renewals to fit; the scorecard's cut-offs stay")
    alert = m.get("alert")
    if alert:
        flagged = "red or high risk" if alert.get("flag") else "high risk"  # fitted jointly
        console.print(
            f"high risk fitted for lead time: at {alert['high_at']} ({flagged} catches "
            f"{alert['detected']:.0%} of lost renewals {alert['lead_days']} days ahead at "
            f"{alert['false_alarms']:.0%} false alarms)"
        )
    elif card.bands.fit is not None:
        console.print(
            f"high risk: too few judged renewals to fit; the scorecard's {card.risk.high_at} stays"
        )


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
        snap = latest_snapshot(session, account_id)
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
