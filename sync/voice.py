"""The voice stage of a run: link survey responses to accounts, find the feedback themes that
deteriorated past their thresholds, and open an owner task for each through the outbox.

Exactly once per theme and period: the decision is a `VoiceAlert` row (unique on theme and
period) added in the caller's transaction together with the outbox creation of its task,
whose key is derived from the same pair. A re-run finds the row and queues nothing; a dry run
is rolled back by its caller, so it leaves neither.

Proportional to change (issue 19): which themes each text mentions is stored and matched
only for rows changed since (reporting/voice_matches.py), and a run in which nothing the
decision reads can have changed does nothing. What the decision reads: survey responses and
tickets (their stamps, `synced_at`, move with every stored change, a link or a relink), the
accounts (ARR, segment, owner, deletion: `updated_at`), the decisions taken (`voice_alerts`),
the voice configuration, the crm system tasks go to, and the day. The last evaluation's mark
(cursor `voice:evaluation`) holds a digest of the configuration and day, and a probe of the
rows: how many there are (a deletion) and which rows were stamped after `since` (the
evaluation's time less the marks' margin, model/marks.py), with their stamps: a row stamped
before the evaluation but committed after it read shows up as a different probe next time.
The mark commits with the alerts and their tasks, so a crashed or dry (rolled-back) run
leaves the last committed evaluation in force.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, func, select, update
from sqlalchemy.orm import Session

from escalation.voice_config import VoiceConfig
from escalation.voice_routing import ThemeAlert, decide
from model import marks
from model.tables import Account, ExternalIdentity, SurveyResponse, Ticket, VoiceAlert, utcnow
from reporting import voice_matches
from reporting.voice_themes import ThemeFigures, Window, book_arr, figures, theme_stats
from sync.escalate import EscalationSystems
from sync.outbox import CreateRequest

log = logging.getLogger(__name__)

MARK_STREAM = "voice:evaluation"
EVALUATION_VERSION = "1"  # bump when the stage's decision for the same inputs changes


def link_responses(session: Session) -> int:
    """Give each unlinked survey response its account: by the crm account id it names, else
    its workspace's or organization's linked account. Returns how many were linked.

    Only unlinked rows that now have an account are written (a row no account claims yet is
    left alone, not rewritten with NULL every run); they are found through the index leading
    with `account_id`, and each lookup is an index probe (`accounts.crm_id`, identities by
    kind and external id)."""
    s = SurveyResponse

    def by_identity(kind: str, column: Any) -> Any:
        return (
            select(ExternalIdentity.account_id)
            .where(
                ExternalIdentity.kind == kind,
                ExternalIdentity.external_id == column,
                ExternalIdentity.status == "linked",
            )
            .limit(1)
            .scalar_subquery()
        )

    by_crm = (
        select(Account.id)
        .where(Account.crm_id == s.crm_account_id, Account.is_deleted.is_(False))
        .limit(1)
        .scalar_subquery()
    )
    account = func.coalesce(
        by_crm,
        by_identity("workspace", s.workspace_id),
        by_identity("organization", s.organization_id),
    )
    result = session.execute(
        update(s).where(s.account_id.is_(None), account.is_not(None)).values(account_id=account),
        execution_options={"synchronize_session": False},
    )
    unlinked = session.scalar(select(func.count()).where(s.account_id.is_(None)))
    if unlinked:
        log.info("%s survey responses name no linked account yet", unlinked)
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class EvaluationMark:
    """The last committed evaluation: its inputs' digest, the probe of the rows stamped
    after `since` (ISO), how many alerts were recorded once it was done, and how many themes
    it found deteriorated (reported when skipping)."""

    inputs: str
    since: str
    probe: str
    alerts: int
    deteriorated: int


def inputs_digest(as_of: dt.date, config: VoiceConfig, systems: EscalationSystems) -> str:
    """Everything the decision depends on besides the rows: the day, the whole voice
    configuration, the crm system tasks go to, the stage's version."""
    parts = [EVALUATION_VERSION, as_of.isoformat(), config.model_dump_json(), _crm(systems)]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()


PROBE_PAGE = 10_000  # stamped rows hashed at a time


def probe(session: Session, since: dt.datetime) -> str:
    """The rows' counts and every row stamped after `since` with its stamp: equal probes
    mean no row the decision reads was added, changed or deleted in between.

    Hashed as the rows stream, a page at a time: after a first sync every row is stamped
    after `since`, and holding them (with their datetimes and one JSON text of them all) was
    the largest allocation of a 5,000-account first sync (~110 MiB, growing with the book)."""
    counts = [
        session.scalar(select(func.count()).select_from(m))
        for m in (SurveyResponse, Ticket, Account)
    ]
    digest = hashlib.sha256(json.dumps(counts).encode())
    for name, model, stamp in (
        ("s", SurveyResponse, SurveyResponse.synced_at),
        ("t", Ticket, Ticket.synced_at),
        ("a", Account, Account.updated_at),
    ):
        query = select(model.id, stamp).where(stamp > since).order_by(model.id)
        rows = session.execute(query, execution_options={"yield_per": PROBE_PAGE})
        for page in rows.partitions():
            digest.update(
                "".join(f"{name} {i} {at and at.isoformat()}\n" for i, at in page).encode()
            )
    return digest.hexdigest()


def read_mark(session: Session) -> EvaluationMark | None:
    return marks.read_mark(session, MARK_STREAM, EvaluationMark)  # None: evaluate


def run_voice(
    session: Session,
    as_of: dt.date,
    config: VoiceConfig,
    systems: EscalationSystems,
) -> tuple[dict[str, int], list[CreateRequest]]:
    """Link, measure and route; returns a summary and the owner tasks to queue (the caller
    queues them in this same transaction). Does nothing when nothing it reads changed since
    the last committed evaluation."""
    linked = link_responses(session)  # a link stamps the row: seen by the probes below
    inputs = inputs_digest(as_of, config, systems)
    last = read_mark(session)
    if (
        last is not None
        and last.inputs == inputs
        and _alerts(session) == last.alerts
        and probe(session, dt.datetime.fromisoformat(last.since)) == last.probe
    ):
        summary = {"linked_responses": 0, "themes_deteriorated": last.deteriorated, "tasks": 0}
        return {**summary, "skipped": 1}, []
    # The marks are watermarks of when this stage reads, not of the run's instant: a first
    # sync's identity step restamps every ticket after the run began, and a mark from the
    # run's start left them all "changed since", matched twice (stored, then again in
    # memory: +36 MiB and its time at 50,000 accounts)
    started = utcnow()
    since = marks.watermark(started)
    seen = probe(session, since)  # before any row is read: a later change shows
    window = Window.ending(as_of, config.period_days)
    refreshed = voice_matches.refresh_matches(session, config, started, window.prev_start)
    stats, _ = theme_stats(session, config, as_of, stored=refreshed.stored)
    figs = figures(stats)
    alerts = decide(list(figs), book_arr(session), config, as_of)
    requests = _route(session, alerts, figs, config, systems, as_of)
    mark = EvaluationMark(inputs, since.isoformat(), seen, _alerts(session), len(alerts))
    marks.save_mark(session, MARK_STREAM, mark)
    summary = {
        "linked_responses": linked,
        "themes_deteriorated": len(alerts),
        "tasks": len(requests),
        "rematched": refreshed.surveys + refreshed.tickets,
    }
    return summary, requests


def _route(
    session: Session,
    alerts: list[ThemeAlert],
    figs: list[ThemeFigures],
    config: VoiceConfig,
    systems: EscalationSystems,
    as_of: dt.date,
) -> list[CreateRequest]:
    """Record each alert not yet recorded this period, with its owner task's creation."""
    done = set(
        session.execute(
            select(VoiceAlert.theme).where(
                VoiceAlert.period.in_({a.period for a in alerts} or {""})
            )
        ).scalars()
    )
    by_theme = {f.theme: f for f in figs}
    requests = []
    for alert in alerts:
        if alert.theme in done:
            continue
        request = owner_task(session, alert, by_theme[alert.theme], config, systems, as_of)
        if request is None:
            continue
        f = by_theme[alert.theme]
        session.add(
            VoiceAlert(
                theme=alert.theme,
                period=alert.period,
                reason=alert.reason,
                owner=alert.owner.name if alert.owner else None,
                accounts=f.accounts,
                affected_arr=f.affected_arr,
                impact=f.impact,
                outbox_key=request.key,
            )
        )
        requests.append(request)
        log.info(
            "theme %s deteriorated (%s): owner task %s", alert.theme, alert.reason, request.key
        )
    return requests


def _alerts(session: Session) -> int:
    """How many alerts are recorded (this stage adds them; deleting one re-evaluates)."""
    return session.scalar(select(func.count()).select_from(VoiceAlert)) or 0


def _crm(systems: EscalationSystems) -> str:
    return systems.sources.get("crm", "crm")


def owner_task(
    session: Session,
    alert: ThemeAlert,
    f: ThemeFigures,
    config: VoiceConfig,
    systems: EscalationSystems,
    as_of: dt.date,
) -> CreateRequest | None:
    """The crm task for `alert`, on its largest affected account, assigned to the routed owner
    (their crm user id, or the crm user with their email) or else that account's owner."""
    top = session.get(Account, f.top_account_id) if f.top_account_id is not None else None
    owner_id = _owner_crm_id(session, alert) or (top.owner_crm_id if top else None)
    if top is None or not top.crm_id or not owner_id:
        log.warning("theme %s: no crm account or owner to give the task to; skipped", alert.theme)
        return None
    routed = alert.owner.name if alert.owner else (top.owner_name or "the account owner")
    subject = f"Feedback theme deteriorating: {f.label} ({f.accounts} accounts)"
    description = "\n".join(
        [
            f"Theme: {f.label} — period ending {as_of.isoformat()} (last {config.period_days} days).",
            f"Why: {alert.reason}.",
            f"Mentions: {f.volume} (previous period {f.volume_before}); "
            f"affected ARR {f.affected_arr:,.0f}; ARR-weighted impact {f.impact:,.0f}.",
            f"Routed to: {routed}. This task sits on the largest affected account, {top.name}.",
            "See the Voice of the customer page for the verbatims.",
        ]
    )
    payload = {
        "what_id": top.crm_id,
        "owner_id": owner_id,
        "subject": subject[:255],
        "description": description,
        "due_date": (as_of + dt.timedelta(days=config.task.due_days)).isoformat(),
        "priority": config.task.priority,
        "_meta": {"voice_theme": alert.theme, "period": alert.period},
    }
    return CreateRequest(alert.key, _crm(systems), "crm_task", payload)


def _owner_crm_id(session: Session, alert: ThemeAlert) -> str | None:
    """The routed owner's crm user id: configured, or found by email among account owners."""
    owner = alert.owner
    if owner is None:
        return None
    if owner.crm_user_id:
        return owner.crm_user_id
    if not owner.email:
        return None
    return session.scalar(
        select(Account.owner_crm_id)
        .where(and_(func.lower(Account.owner_email) == owner.email.lower()))
        .where(Account.owner_crm_id.is_not(None))
        .limit(1)
    )
