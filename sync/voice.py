"""The voice stage of a run: link survey responses to accounts, find the feedback themes that
deteriorated past their thresholds, and open an owner task for each through the outbox.

Exactly once per theme and period: the decision is a `VoiceAlert` row (unique on theme and
period) added in the caller's transaction together with the outbox creation of its task,
whose key is derived from the same pair. A re-run finds the row and queues nothing; a dry run
is rolled back by its caller, so it leaves neither.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from sqlalchemy import and_, func, select, update
from sqlalchemy.orm import Session

from escalation.voice_config import VoiceConfig
from escalation.voice_routing import ThemeAlert, decide
from model.tables import Account, ExternalIdentity, SurveyResponse, VoiceAlert
from reporting.voice_themes import ThemeFigures, account_arr, figures, theme_stats
from sync.escalate import EscalationSystems
from sync.outbox import CreateRequest

log = logging.getLogger(__name__)


def link_responses(session: Session) -> int:
    """Give each unlinked survey response its account: by the crm account id it names, else
    its workspace's or organization's linked account. Returns how many were linked."""
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
        update(s).where(s.account_id.is_(None)).values(account_id=account),
        execution_options={"synchronize_session": False},
    )
    unlinked = session.scalar(select(func.count()).where(s.account_id.is_(None)))
    if unlinked:
        log.info("%s survey responses name no linked account yet", unlinked)
    return max(0, (result.rowcount or 0) - (unlinked or 0))  # type: ignore[attr-defined]


def run_voice(
    session: Session, as_of: dt.date, config: VoiceConfig, systems: EscalationSystems
) -> tuple[dict[str, int], list[CreateRequest]]:
    """Link, measure and route; returns a summary and the owner tasks to queue (the caller
    queues them in this same transaction)."""
    linked = link_responses(session)
    stats, _, _ = theme_stats(session, config, as_of)
    arr = account_arr(session)
    figs = figures(session, stats, arr)
    alerts = decide(list(figs), sum(arr.values()), config, as_of)
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
    summary = {
        "linked_responses": linked,
        "themes_deteriorated": len(alerts),
        "tasks": len(requests),
    }
    return summary, requests


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
    return CreateRequest(alert.key, systems.sources.get("crm", "crm"), "crm_task", payload)


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
