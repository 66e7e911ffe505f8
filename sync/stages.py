"""The stages after the pull, as plain functions the single-process run (sync/pipeline.py)
and the distributed run (sync/distributed.py) both call: backfill, score, escalate, plan,
push, and the failed-run alert. Each takes what it needs; none commits on its own.

`scoring.service` and `scoring.risk_store` are imported where they are used: the first
loads the scoring engine, the second scikit-learn (about 1 s and 100 MiB, for the first sync's
fit and the nightly refit only), which the CLI, the web app and the outbox drain never need.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session, sessionmaker

from connectors.base import Connector, Writer
from model.db import transaction
from model.tables import utcnow
from sync import outbox, push
from sync.deadband import DeadBand
from sync.escalate import EscalationSystems, escalation_systems, run_escalations
from sync.outbox import CreateRequest
from sync.plan_scope import config_digest, owners_digest, plan_scope, save_mark
from sync.push import Route
from sync.replay import OnWeek, OpenSession, replay_history
from sync.writeback import PlanChunk, WriteTargets, plan_chunks
from sync.writeback_rows import newest_day

if TYPE_CHECKING:
    from scoring.changes import Rescore
    from scoring.digest_marks import DigestSource

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
    operations: Any | None = None  # csops.config.CsOpsConfig: onboarding phases, handoffs
    voice: Any | None = None  # escalation.voice_config.VoiceConfig: feedback themes and routing
    reviews: Any | None = None  # escalation.operations.OperationsConfig; None: stage off
    incremental: bool = True  # re-score only changed accounts after the day's first run


def backfill_first_run(
    open_session: OpenSession, as_of: dt.date, config: JobConfig, on_week: OnWeek | None = None
) -> None:
    """With no snapshot before `as_of` yet (or a replay a stopped run left unfinished), replay
    weekly history from the pulled data, a committed week at a time, and fit renewal risk on
    it when it holds enough outcomes, so today's scores use the fitted model
    (sync/replay.py; `on_week`: told of each week as it starts)."""
    replay_history(open_session, as_of, config.backfill_weeks, config.scorecard, on_week)


def score(
    session: Session, as_of: dt.date, config: JobConfig, scope: list[int] | None = None
) -> dict[str, int]:
    """Score the whole book (in batches, holding no rows in memory) or the accounts in
    `scope`; returns accounts per band."""
    from scoring.service import score_accounts, score_all

    if scope is None:
        return score_all(session, as_of, config.scorecard)
    snaps = score_accounts(session, as_of, config.scorecard, scope)
    return dict(Counter(s.band for s in snaps))


@dataclass(frozen=True)
class Scored:
    """What the scoring stage hands on: the book's accounts per band, the accounts escalation
    must re-evaluate (None: all of them), every live account's inputs digest (None: not
    computed, a refresh), and what to keep in the run's stats (`incremental`)."""

    bands: dict[str, int]
    judged: list[int] | None
    digests: DigestSource | None = None
    info: dict[str, Any] = field(default_factory=dict)


def plan_scoring(session: Session, as_of: dt.date, config: JobConfig, now: dt.datetime) -> Rescore:
    """Which accounts the run re-scores (scoring/changes.py `plan_rescore`: every live
    account's inputs digest, stored in the caller's transaction, against the day's snapshot
    digests); everyone when `config.incremental` is off."""
    from scoring.changes import active_model_key, plan_rescore

    extra = config.rules.model_dump_json() if config.rules is not None else ""
    key = active_model_key(session, config.scorecard)
    full = not config.incremental  # a forced full pass: digests computed in full too
    r = plan_rescore(session, as_of, config.scorecard, key, now=now, extra=extra, full_digest=full)
    if full:  # it still stores the digests it scored from
        r = dataclasses.replace(r, scope=None, reason="full score (forced)")
    log.info(
        "incremental scoring: %s (%s digests recomputed)",
        r.reason,
        "all" if r.digested is None else r.digested,
    )
    return r


def score_changed(
    session: Session, as_of: dt.date, config: JobConfig, now: dt.datetime | None = None
) -> Scored:
    """Re-score only the accounts whose inputs changed since the day's snapshot (the day's
    first run, or a configuration or model change, scores everyone: scoring/changes.py), and
    name the accounts whose escalation rules can have another answer (escalation/scope.py).

    scoring.service is loaded only when something is to be scored."""
    from escalation.scope import book_digest, escalation_scope
    from scoring.changes import band_counts

    now = now or utcnow()
    r = plan_scoring(session, as_of, config, now)
    info: dict[str, Any] = {"reason": r.reason, "digested": r.digested}
    if r.scope is None or r.scope:
        from scoring.service import current_risk_model, score_accounts, score_all

        model = current_risk_model(session, config.scorecard)
    if r.scope is None:
        bands = score_all(
            session, as_of, config.scorecard, risk_model=model, now=now, digests=r.digests
        )
        if config.rules is not None:
            info["book"] = book_digest(session, as_of, config.rules)
        info.update(rescored=sum(bands.values()), judged=None)
        return Scored(bands, None, r.digests, info)
    if r.scope:
        score_accounts(
            session, as_of, config.scorecard, r.scope, risk_model=model, now=now,
            digests=r.digests,
        )  # fmt: skip
    judged: set[int] = set(r.scope)
    if config.rules is not None:
        judged, why = escalation_scope(session, as_of, now, config.rules, r.scope)
        info.update(why)
    info.update(rescored=len(r.scope), judged=len(judged))
    return Scored(band_counts(session, as_of), sorted(judged), r.digests, info)


def action_systems(connectors: Mapping[str, Connector], config: JobConfig) -> EscalationSystems:
    """The sources escalation actions go to: the connectors and the notifier, by kind."""
    notifier = [config.notifier] if config.notifier is not None else []
    return escalation_systems([*connectors.values(), *notifier])


def escalate(
    session: Session,
    as_of: dt.date,
    config: JobConfig,
    systems: EscalationSystems,
    scope: list[int] | None = None,
    digests: DigestSource | None = None,
    now: dt.datetime | None = None,
) -> tuple[dict[str, int], list[CreateRequest]]:
    """Open, update and resolve escalations by the rules; returns counts and the creations
    that carry out their actions through `systems` (to be queued in the same transaction).
    `digests`: the evaluated accounts' inputs digests, recorded with the evaluation."""
    assert config.rules is not None
    return run_escalations(
        session,
        as_of,
        config.rules,
        scope,
        escalation_group_id=config.escalation_group_id,
        systems=systems,
        digests=digests,
        now=now,
    )


def route_voice(
    session: Session,
    as_of: dt.date,
    config: JobConfig,
    systems: EscalationSystems,
) -> tuple[dict[str, int], list[CreateRequest]]:
    """Link survey responses, find the feedback themes that deteriorated and return the owner
    tasks to queue (in the same transaction as the alerts recorded): see sync/voice.py. Its
    marks read the clock when it starts reading, not the run's instant."""
    from sync.voice import run_voice

    assert config.voice is not None
    return run_voice(session, as_of, config.voice, systems)


def plan(
    session: Session, config: JobConfig, targets: WriteTargets, scope: list[int] | None = None
) -> Iterator[PlanChunk]:
    """The write-back plan, streamed chunk by chunk: desired state against what was written,
    for the connectors' field write kinds (`targets`); with `write_owner` opted in, the owners
    the assignment rules want too (the crm's field map must allow-list `account_owner`)."""
    from sync.operations import desired_owners

    owners = desired_owners(session, config.operations) if config.operations else {}
    return plan_chunks(
        session, targets, config.writeback_policy, scope, band=config.deadband, extra=owners
    )


def enqueue(
    session: Session,
    chunks: Iterator[PlanChunk],
    scope: list[int] | None = None,
    *,
    dry_run: bool = False,
) -> outbox.PlanSummary:
    """Put the plan's differences in the outbox (a dry run only counts them); a plan of the
    whole book also supersedes pending writes no chunk planned any more."""
    return outbox.enqueue_chunks(session, chunks, sweep=scope is None, dry_run=dry_run)


def write_back(
    session: Session,
    config: JobConfig,
    targets: WriteTargets,
    scope: list[int] | None = None,
    *,
    full: str | None = None,
    dry_run: bool = False,
) -> tuple[outbox.PlanSummary, dict[str, Any]]:
    """Plan and enqueue the write-back; returns the summary and what to keep in the run's
    stats. A targeted refresh (`scope`) plans its accounts and sweeps nothing. A run of the
    book plans the whole book with the sweep (the day's first plan, a changed configuration,
    `full`: a reason, such as a full score) or only the accounts changed since the last
    committed plan (sync/plan_scope.py), and commits its mark with the enqueued writes."""
    from sync.operations import desired_owners

    owners = desired_owners(session, config.operations) if config.operations else {}
    policy, band = config.writeback_policy, config.deadband
    if scope is not None:
        chunks = plan_chunks(session, targets, policy, scope, band=band, extra=owners)
        return enqueue(session, chunks, scope, dry_run=dry_run), {}
    day = newest_day(session)
    if day is None:  # nothing scored yet
        return outbox.PlanSummary(), {}
    if not config.incremental:
        full = full or "full score (forced)"
    key, wanted = config_digest(targets, policy, band), owners_digest(owners)
    ps = plan_scope(session, day, key, wanted, utcnow(), full=full)
    log.info("write-back plan: %s", ps.reason)
    chunks = plan_chunks(session, targets, policy, ps.accounts, band=band, extra=owners)
    summary = outbox.enqueue_chunks(
        session, chunks, sweep=ps.accounts is None, sweep_accounts=ps.accounts or (),
        dry_run=dry_run,
    )  # fmt: skip
    if not dry_run:
        save_mark(session, ps.mark)
    planned = None if ps.accounts is None else len(ps.accounts)
    return summary, {"reason": ps.reason, "accounts": planned}


def push_outbox(
    factory: sessionmaker[Session],
    connectors: Mapping[str, Connector],
    routes: dict[str, Route],
    on_batch: Callable[[], None] | None = None,
) -> dict[str, Any]:
    """Drain the outbox through `routes`; returns what was sent, failed and dead-lettered."""
    return push.drain(factory, routes, on_batch=on_batch).as_dict()


def alert_failed_run(
    factory: sessionmaker[Session],
    config: JobConfig,
    routes: dict[str, Route],
    run_id: int,
    message: str,
) -> None:
    """Post a failed run to the rules' notify webhook, through the outbox (retried)."""
    url = config.rules.notify.url if config.rules is not None else None
    if url is None or "notify" not in routes:
        return
    payload = {"text": message, "event": "run_failed", "run_id": run_id}
    system = config.notifier.name if config.notifier is not None else "notifier"
    request = CreateRequest(
        f"run-failed:{run_id}", system, "notify", {"url": str(url), "payload": payload}
    )
    with transaction(factory) as session:
        outbox.enqueue_creates(session, [request])
    push.drain(factory, {"notify": routes["notify"]})
