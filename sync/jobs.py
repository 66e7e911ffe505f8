"""The jobs pulsehub runs — full sync and outbox drain — assembled from their parts.

Callers (CLI, Celery tasks, the demo, tests) hand in a session factory, connectors and
validated configs; nothing here reads the environment or builds a client.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from connectors.base import Connector, Writer
from model.db import transaction
from sync import outbox, push
from sync.deadband import DeadBand
from sync.outbox import CreateRequest
from sync.pipeline import STREAM_ORDER, RunReport, Steps, run_sync
from sync.push import Route
from sync.routes import field_targets, writer_routes

log = logging.getLogger(__name__)


@dataclass
class JobConfig:
    scorecard: Any
    rules: Any | None = None
    escalation_group_id: int | None = None
    notifier: Connector | None = None  # posts Notify actions and Slack digests (a webhook)
    writeback_policy: str = "own"  # or "reassert": see sync/writeback.py
    backfill_weeks: int = 12  # first run: replay this many weekly snapshots so trends start real
    deadband: DeadBand = field(default_factory=DeadBand)  # see sync/deadband.py
    mailer: Writer | None = None  # connectors.email.EmailSender for the digest emails


def all_routes(connectors: dict[str, Any], config: JobConfig) -> dict[str, Route]:
    """Every outbox kind this configuration can push, digests included."""
    writers = [c.writer for c in connectors.values()]
    return writer_routes([*writers, *_digest_writers(config)])


def _digest_writers(config: JobConfig) -> list[Writer | None]:
    """The notifier's writer (Notify actions, Slack digests) and the digest mailer."""
    return [config.notifier.writer if config.notifier else None, config.mailer]


def make_steps(
    connectors: dict[str, Any], config: JobConfig, account_ids: list[int] | None = None
) -> Steps:
    routes = all_routes(connectors, config)

    def score(session: Session, as_of: dt.date) -> dict[str, int]:
        from scoring.service import score_accounts, score_all

        if account_ids is None:  # the whole book, in batches, holding no rows in memory
            return score_all(session, as_of, config.scorecard)
        snaps = score_accounts(session, as_of, config.scorecard, account_ids)
        return dict(Counter(s.band for s in snaps))

    def escalate(session: Session, as_of: dt.date) -> tuple[dict[str, int], list[CreateRequest]]:
        from sync.escalate import run_escalations

        assert config.rules is not None
        return run_escalations(
            session,
            as_of,
            config.rules,
            account_ids,
            escalation_group_id=config.escalation_group_id,
        )

    def push_all(factory: sessionmaker[Session]) -> dict[str, Any]:
        return push.drain(factory, routes).as_dict()

    def alert(factory: sessionmaker[Session], run_id: int, message: str) -> None:
        """Post a failed run to the rules' notify webhook, through the outbox (retried)."""
        url = config.rules.notify.url if config.rules is not None else None
        if url is None or "notify" not in routes:
            return
        payload = {"text": message, "event": "run_failed", "run_id": run_id}
        request = CreateRequest(
            f"run-failed:{run_id}", "webhook", "notify", {"url": str(url), "payload": payload}
        )
        with transaction(factory) as session:
            outbox.enqueue_creates(session, [request])
        push.drain(factory, {"notify": routes["notify"]})

    return Steps(
        score=score,
        escalate=escalate if config.rules is not None else None,
        push=push_all if routes else None,
        writeback_policy=config.writeback_policy,
        deadband=config.deadband,
        backfill=(lambda session, as_of: _backfill_first_run(session, as_of, config))
        if account_ids is None
        else None,
        plan_scope=account_ids,
        write_targets=field_targets(
            {name: c.writer.kinds for name, c in connectors.items() if c.writer is not None}
        ),
        alert=alert,
    )


def _backfill_first_run(session: Session, as_of: dt.date, config: JobConfig) -> None:
    """With no snapshot before `as_of` yet, replay weekly history from the pulled data, so trend,
    sharp drops, the audit and escalation lead times work from the first day; and fit renewal
    risk on it when it holds enough outcomes, so today's scores use the fitted model."""
    from sqlalchemy import exists, select

    from model.tables import HealthSnapshot
    from scoring.service import backfill_snapshots

    if config.backfill_weeks <= 0:
        return
    if session.execute(select(exists().where(HealthSnapshot.as_of < as_of))).scalar():
        return
    start = as_of - dt.timedelta(weeks=config.backfill_weeks)
    n = backfill_snapshots(session, start, as_of - dt.timedelta(days=7), config.scorecard)
    log.info("first run: replayed %s weekly snapshots since %s", n, start)
    from scoring.risk_store import refit_if_due  # enough outcomes in the replay: fit now

    version = refit_if_due(session, config.scorecard.risk.horizon_days)
    if version is not None:
        log.info("first run: renewal-risk model v%s fitted on the replayed history", version)


def sync_job(
    factory: sessionmaker[Session],
    connectors: dict[str, Any],
    config: JobConfig,
    *,
    dry_run: bool = False,
    as_of: dt.date | None = None,
    kind: str = "sync",
    errors: list[str] | None = None,
    progress: Any = None,
) -> RunReport:
    steps = make_steps(connectors, config)
    return run_sync(
        factory,
        connectors,
        steps,
        dry_run=dry_run,
        as_of=as_of,
        kind=kind,
        streams=STREAM_ORDER,
        errors=errors or [],
        progress=progress,
    )


def drain_job(
    factory: sessionmaker[Session], connectors: dict[str, Any], config: JobConfig
) -> dict[str, Any]:
    routes = all_routes(connectors, config)
    return push.drain(factory, routes).as_dict()


def refit_risk(factory: sessionmaker[Session], config: JobConfig) -> int | None:
    """Fit and store a new renewal-risk version when the history holds enough new outcomes."""
    from scoring.risk_store import refit_if_due

    with factory() as session, session.begin():
        version = refit_if_due(session, config.scorecard.risk.horizon_days)
    if version is not None:
        log.info("renewal-risk model refitted: version %s", version)
    return version


RECONCILE_STREAMS: tuple[tuple[str, str], ...] = (
    ("salesforce", "accounts"),
    ("salesforce", "opportunities"),
    ("salesforce", "contacts"),
    ("zendesk", "organizations"),
    ("usage", "workspaces"),
)


def reconcile_job(
    factory: sessionmaker[Session], connectors: dict[str, Any], config: JobConfig
) -> RunReport:
    """Nightly: refit renewal risk if enough new outcomes came in, re-read the small reference
    streams whole (formula fields, hard deletes), then sync (scoring with the newest model)."""
    refit_risk(factory, config)
    steps = make_steps(connectors, config)
    return run_sync(
        factory, connectors, steps, kind="reconcile", streams=STREAM_ORDER, fresh=RECONCILE_STREAMS
    )


REFRESH_STREAMS: tuple[tuple[str, str], ...] = (("zendesk", "tickets"),)


def refresh_job(
    factory: sessionmaker[Session], connectors: dict[str, Any], config: JobConfig, account_id: int
) -> RunReport:
    """Near real time for one account: pull recent Zendesk changes, rescore, push.

    The incremental ticket pull is cheap (one page from the saved cursor); scoring and the
    write-back diff then touch only what changed, so the account's new state reaches
    Salesforce and Zendesk within seconds of the webhook.
    """
    steps = make_steps(connectors, config, account_ids=[account_id])
    return run_sync(
        factory, connectors, steps, kind=f"refresh:{account_id}", streams=REFRESH_STREAMS
    )


def weekly_digest_job(
    factory: sessionmaker[Session], config: JobConfig, today: dt.date, owner: str | None = None
) -> dict[str, Any]:
    """Queue and push this week's owner digests through the configured channels."""
    from sync.digest import digest_job

    routes = writer_routes(_digest_writers(config))
    return digest_job(factory, routes, today, owner=owner)
