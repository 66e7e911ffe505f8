"""The jobs pulsehub runs — sync, reconcile, refresh, outbox drain, digest — assembled from
the pipeline and its stages.

Callers (CLI, Celery tasks, the demo, tests) hand in a session factory, connectors and
validated configs; nothing here reads the environment or builds a client.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from connectors.base import Connector, Writer
from model.orm import utcnow
from sync.digest import digest_job
from sync.pipeline import run_sync
from sync.pull import OnProgress
from sync.push import Route
from sync.report import RunReport
from sync.routes import source_routes, writer_routes
from sync.stages import JobConfig, push_outbox

log = logging.getLogger(__name__)


def all_routes(connectors: Mapping[str, Connector], config: JobConfig) -> dict[str, Route]:
    """Every outbox kind this configuration can push (per source where two sources share a
    kind), digests included."""
    writers = {name: c.writer for name, c in connectors.items()}
    return {**source_routes(writers), **writer_routes(_digest_writers(config))}


def _digest_writers(config: JobConfig) -> list[Writer | None]:
    """The notifier's writer (Notify actions, Slack digests) and the digest mailer."""
    return [config.notifier.writer if config.notifier else None, config.mailer]


def sync_job(
    factory: sessionmaker[Session],
    connectors: Mapping[str, Connector],
    config: JobConfig,
    *,
    dry_run: bool = False,
    as_of: dt.date | None = None,
    kind: str = "sync",
    errors: list[str] | None = None,
    progress: OnProgress | None = None,
) -> RunReport:
    """Every stream from its cursor, the whole book scored, planned and pushed."""
    return run_sync(
        factory,
        connectors,
        config,
        routes=all_routes(connectors, config),
        dry_run=dry_run,
        as_of=as_of,
        kind=kind,
        errors=errors or [],
        progress=progress,
    )


def drain_job(
    factory: sessionmaker[Session], connectors: Mapping[str, Connector], config: JobConfig
) -> dict[str, Any]:
    return push_outbox(factory, connectors, all_routes(connectors, config))


def refit_risk(factory: sessionmaker[Session], config: JobConfig) -> int | None:
    """Fit and store a new renewal-risk version when the history holds enough new outcomes."""
    from scoring.risk_store import refit_if_due  # loads scikit-learn: see sync/stages.py

    with factory() as session, session.begin():
        card = config.scorecard
        version = refit_if_due(session, card.risk.horizon_days, band_fit=card.bands.fit)
    if version is not None:
        log.info("renewal-risk model refitted: version %s", version)
    return version


def audit_trust(factory: sessionmaker[Session], config: JobConfig, source: str) -> int:
    """Store the score's trust audit (weekly drift, override rates) for the dashboard."""
    from scoring.trust import store_trust_audit  # numpy: only the jobs that audit load it

    with factory() as session, session.begin():
        horizon = config.scorecard.risk.horizon_days
        row = store_trust_audit(session, now=utcnow(), horizon_days=horizon, source=source)
        return row.id


def reconcile_job(
    factory: sessionmaker[Session], connectors: Mapping[str, Connector], config: JobConfig
) -> RunReport:
    """Nightly: refit renewal risk if enough new outcomes came in, re-read the streams declared
    `reconcile` whole (formula fields, hard deletes), then sync (scoring with the newest model),
    then store the score's trust audit over the snapshots the sync wrote."""
    refit_risk(factory, config)
    routes = all_routes(connectors, config)
    report = run_sync(
        factory, connectors, config, routes=routes, kind="reconcile", streams="reconcile"
    )
    audit_trust(factory, config, "reconcile")
    return report


def refresh_job(
    factory: sessionmaker[Session],
    connectors: Mapping[str, Connector],
    config: JobConfig,
    account_id: int,
) -> RunReport:
    """Near real time for one account: pull the streams declared `refresh`, rescore, push.

    The incremental ticket pull is cheap (one page from the saved cursor); scoring and the
    write-back diff then touch only what changed, so the account's new state reaches the
    CRM and the helpdesk within seconds of the webhook.
    """
    return run_sync(
        factory,
        connectors,
        config,
        routes=all_routes(connectors, config),
        kind=f"refresh:{account_id}",
        streams="refresh",
        scope=[account_id],
    )


def weekly_digest_job(
    factory: sessionmaker[Session], config: JobConfig, today: dt.date, owner: str | None = None
) -> dict[str, Any]:
    """Queue and push this week's owner digests through the configured channels."""
    routes = writer_routes(_digest_writers(config))
    return digest_job(factory, routes, today, owner=owner)
