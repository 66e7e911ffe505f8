"""`pulsehub demo`: the whole pipeline on the in-process sandbox and a fresh embedded database.

Wiring only. The demo is the one production entry point that starts the sandbox, so it
imports it here and nowhere else.
"""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from model.db import upgrade
from pulsehub.settings import (
    SalesforceSettings,
    Settings,
    SourceSettings,
    UsageSettings,
    ZendeskSettings,
)
from reporting.overview import Overview, load_overview
from scoring.audit import latest_audit
from scoring.trust import latest_trust_audit
from sync.jobs import audit_trust

CRMS = ("salesforce", "hubspot")
HELPDESKS = ("zendesk", "freshdesk")


def sandbox_settings(
    base_url: str,
    database_url: str,
    helpdesk: str = "zendesk",
    *,
    crm: str = "salesforce",
    **extra: Any,
) -> Settings:
    """Settings that point every client at a running sandbox (its fake credentials): `crm`
    picks the crm source (salesforce or hubspot), `helpdesk` the helpdesk (zendesk or freshdesk)."""
    from sandbox import credentials as cred

    if crm not in CRMS:
        raise ValueError(f"crm must be one of {', '.join(CRMS)}, got {crm!r}")
    if helpdesk not in HELPDESKS:
        raise ValueError(f"unknown helpdesk {helpdesk!r}: one of {', '.join(HELPDESKS)}")
    salesforce = SalesforceSettings(
        instance_url="https://sandbox.my.salesforce.com",
        session_id=cred.SF_SESSION_ID,  # type: ignore[arg-type]
        api_version=cred.SF_API_VERSION,
        loopback_url=base_url,
    )
    zendesk = ZendeskSettings(
        subdomain=cred.ZD_SUBDOMAIN,
        email=cred.ZD_EMAIL,
        token=cred.ZD_API_TOKEN,  # type: ignore[arg-type]
        loopback_url=base_url,
        # the sandbox allows 100 incremental exports a minute (Zendesk: 10, 30 high-volume)
        export_requests_per_minute=100,
    )
    sources = list(extra.pop("sources", []))
    if crm == "hubspot":
        salesforce = SalesforceSettings()  # not configured: HubSpot is the crm
        sources.insert(0, SourceSettings.model_validate(cred.hubspot_source(base_url)))
    if helpdesk == "freshdesk":
        zendesk = ZendeskSettings()  # not configured: Freshdesk is the helpdesk
        sources.insert(0, freshdesk_source(base_url))
    return Settings(
        database_url=database_url,
        salesforce=salesforce,
        zendesk=zendesk,
        usage=UsageSettings(base_url=base_url, token=cred.USAGE_BEARER_TOKEN),  # type: ignore[arg-type]
        sources=sources,
        **extra,
    )


def freshdesk_source(base_url: str) -> SourceSettings:
    """The sandbox's Freshdesk account as a configured source."""
    from sandbox import credentials as cred

    options = {
        "domain": cred.FD_DOMAIN,
        "api_key": cred.FD_API_KEY,
        "requester_email": cred.ZD_EMAIL,  # the sandbox's integration agent
        "loopback_url": base_url,
    }
    return SourceSettings(name="freshdesk", connector="freshdesk", options=options)


def _fresh_sqlite(url: str) -> None:
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)


def run_demo(
    console: Console,
    *,
    accounts: int,
    seed: int,
    database_url: str,
    crm: str = "salesforce",
    helpdesk: str = "zendesk",
) -> int:
    from pulsehub.report import SyncProgress, print_run
    from pulsehub.runtime import Runtime
    from sandbox import Sandbox

    started = time.perf_counter()
    _fresh_sqlite(database_url)
    upgrade(database_url)
    with console.status(f"generating a sandbox of {accounts} accounts (seed {seed})..."):
        sb = Sandbox(accounts=accounts, seed=seed)
        sb.start()
    try:
        names = (
            {"salesforce": "Salesforce", "hubspot": "HubSpot"}[crm],
            {
                "zendesk": "Zendesk",
                "freshdesk": "Freshdesk",
            }[helpdesk],
        )
        console.print(f"sandbox serving {names[0]}, {names[1]} and usage APIs at {sb.base_url}")
        rt = Runtime(sandbox_settings(sb.base_url, database_url, helpdesk, crm=crm))
        console.print("first sync: pull, resolve identities, score, escalate, write back")
        with SyncProgress(console) as progress:
            first = rt.sync(kind="demo", progress=progress)
        print_run(console, first)
        writes_first = Counter(w["kind"] for w in sb.writes)
        requests_before = len(sb.requests)
        writes_before = len(sb.writes)
        with console.status("second sync with no source changes..."):
            second = rt.sync(kind="demo")
        writes_second = len(sb.writes) - writes_before
        requests_second = len(sb.requests) - requests_before
        _overdue_rca_story(console, rt, sb)
        audit_trust(rt.factory, rt.job_config, "demo")  # as the nightly reconcile does
        with rt.factory() as session:
            book = load_overview(session)  # the dashboard's own figures: they add up
            risk = _risk_model(session)
            drift = _drift(session)
        _summary(
            console,
            book,
            risk,
            drift,
            writes_first,
            writes_second,
            requests_second,
            time.perf_counter() - started,
        )
        rt.close()
        return 1 if first.errors or second.errors else 0
    finally:
        sb.stop()


def _overdue_rca_story(console: Console, rt: Any, sb: Any) -> None:
    """Story: engineering solved an escalation's ticket four days ago and nobody wrote the RCA:
    the next sync flags it overdue and leaves one reminder on the ticket (see /rcas)."""
    from reporting.rcas import first_engineering_ticket
    from sandbox.control import solve_ticket_earlier

    with rt.factory() as session:
        ticket_id = first_engineering_ticket(session)
    if ticket_id is None:
        return
    solve_ticket_earlier(sb.state, ticket_id, hours_ago=96)
    sb.tick(61)  # past the incremental export's one-minute lag
    report = rt.sync(kind="demo")
    if report.reviews.get("rca_reminded"):
        console.print(
            f"story: engineering ticket #{ticket_id} was solved 96 h ago with no RCA — "
            "flagged overdue, one reminder left on the ticket (dashboard: RCAs)"
        )


def _risk_model(session: Any) -> str:
    """What the renewal risk written back comes from: the fitted model, or the prior."""
    audit = latest_audit(session)
    if audit is None:
        return "prior formula, written back marked uncalibrated (too few renewal outcomes to fit)"
    return (
        f"fitted model on {audit['outcomes']} renewal outcomes ({audit['lost']} lost), "
        f"cross-validated AUC {audit['cv_auc']:.2f} (dashboard: Operations → Score audit)"
    )


def _drift(session: Any) -> str:
    """The stored trust audit's newest week: how far the score's distribution moved."""
    row = latest_trust_audit(session)
    weeks = (row.report.get("drift") or {}).get("weeks") if row else None
    if not weeks:
        return "not measured (fewer than two weeks of snapshots)"
    w = weeks[-1]
    if w["score"] is None:
        return f"not measured ({w['accounts']} scored accounts: too few for a PSI)"
    return (
        f"score PSI {w['score']:.3f} week over week ({w['reference']} to {w['current']}), "
        f"{len(w['shifted'])} signal(s) shifted (dashboard: Operations → Score audit)"
    )


def _summary(
    console: Console,
    book: Overview,
    risk: str,
    drift: str,
    writes: Counter[str],
    writes_second: int,
    requests_second: int,
    seconds: float,
) -> None:
    t = Table(title="pulsehub demo summary", show_header=False)
    t.add_row("accounts synced", str(book.accounts))
    t.add_row("health distribution", ", ".join(f"{b}: {n}" for b, n in book.bands.items()))
    t.add_row("churned", f"{book.churned} (lost their renewal or left per the crm: not scored)")
    why = ", ".join(f"{n} {reason}" for reason, n in book.unscored_reasons.items())
    t.add_row("not scored", f"{book.unscored}{f' ({why})' if why else ''}")
    t.add_row("renewal risk", risk)
    t.add_row("score drift", drift)
    t.add_row(
        "writes applied (first run)",
        ", ".join(f"{k}: {n}" for k, n in sorted(writes.items())) or "none",
    )
    t.add_row("writes on an unchanged re-run", f"{writes_second} ({requests_second} API requests)")
    t.add_row("time taken", f"{seconds:.1f}s")
    console.print(t)
