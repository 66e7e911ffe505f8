"""`/metrics` in the Prometheus text exposition format (0.0.4), written by hand from the model."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import PlainTextResponse
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from model.tables import (
    Account,
    Escalation,
    ExternalIdentity,
    HealthSnapshot,
    OutboxItem,
    QuarantinedRecord,
    SyncRun,
    Ticket,
    UsageDaily,
)
from pulsehub.web.auth import Principal, require_user
from pulsehub.web.queries.common import OPEN_ESCALATION_STATES
from pulsehub.web.queries.operations import REVIEW_STATES, api_usage, recent_runs
from pulsehub.web.rendering import session_scope

router = APIRouter()
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
Sample = tuple[dict[str, str], float]


def _escape(v: str) -> str:
    return v.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _number(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else repr(float(v))


def family(name: str, kind: str, help_text: str, samples: Iterable[Sample]) -> list[str]:
    lines = [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}"]
    for labels, value in samples:
        inner = ",".join(f'{k}="{_escape(str(v))}"' for k, v in sorted(labels.items()))
        lines.append(f"{name}{{{inner}}} {_number(value)}" if inner else f"{name} {_number(value)}")
    return lines


def collect(session: Session) -> str:
    out: list[str] = []
    runs = session.execute(
        select(SyncRun.kind, SyncRun.status, func.count()).group_by(SyncRun.kind, SyncRun.status)
    )
    out += family("pulsehub_sync_runs_total", "counter", "Sync runs recorded, by kind and status.",
                  (({"kind": k, "status": s}, n) for k, s, n in runs))  # fmt: skip
    last = session.execute(
        select(SyncRun.kind, func.max(SyncRun.started_at)).group_by(SyncRun.kind)
    )
    out += family("pulsehub_sync_last_run_timestamp_seconds", "gauge", "Start of the newest run, by kind.",
                  (({"kind": k}, t.timestamp()) for k, t in last if t))  # fmt: skip
    newest = recent_runs(session, 20)
    finished = next((r for r in newest if r.status != "running"), None)
    pulled: dict[str, Any] = ((finished.stats or {}).get("pulled") or {}) if finished else {}
    out += family("pulsehub_last_run_records_pulled", "gauge", "Records pulled per stream by the newest finished run.",
                  (({"stream": s}, float(n)) for s, n in sorted(pulled.items()) if isinstance(n, int | float)))  # fmt: skip
    tables = {
        "accounts": Account,
        "tickets": Ticket,
        "usage_daily": UsageDaily,
        "health_snapshots": HealthSnapshot,
    }
    out += family("pulsehub_records", "gauge", "Rows in the unified model, by table.",
                  (({"table": t}, float(session.scalar(select(func.count()).select_from(m)) or 0)) for t, m in tables.items()))  # fmt: skip
    api = api_usage(newest)
    for metric, key, text in (("pulsehub_api_calls_last_run", "calls", "API calls made by the newest run that made any."),
                              ("pulsehub_api_quota_used", "used", "API quota used, as last reported by the system."),
                              ("pulsehub_api_quota_limit", "limit", "API quota limit, as last reported by the system.")):  # fmt: skip
        out += family(metric, "gauge", text,
                      (({"system": s}, float(f[key])) for s, f in sorted(api.items()) if isinstance(f.get(key), int | float)))  # fmt: skip
    outbox = session.execute(
        select(OutboxItem.system, OutboxItem.status, func.count()).group_by(OutboxItem.system, OutboxItem.status)
    )  # fmt: skip
    outbox_rows = [(s, st, n) for s, st, n in outbox]
    out += family("pulsehub_outbox_items", "gauge", "Write-back outbox items, by system and status.",
                  (({"system": s, "status": st}, n) for s, st, n in outbox_rows))  # fmt: skip
    out += family("pulsehub_dead_letters", "gauge", "Outbox items given up on (status dead).",
                  [({}, float(sum(n for _, st, n in outbox_rows if st == "dead")))])  # fmt: skip
    quarantined = session.scalar(select(func.count()).select_from(QuarantinedRecord)) or 0
    out += family("pulsehub_quarantined_records", "gauge", "Source records that failed validation.",
                  [({}, float(quarantined))])  # fmt: skip
    review = session.scalar(
        select(func.count()).select_from(ExternalIdentity).where(ExternalIdentity.status.in_(REVIEW_STATES))
    ) or 0  # fmt: skip
    out += family("pulsehub_identity_review_queue", "gauge", "External records waiting for an identity decision.",
                  [({}, float(review))])  # fmt: skip
    esc = session.execute(
        select(Escalation.severity, func.count()).where(Escalation.state.in_(OPEN_ESCALATION_STATES))
        .group_by(Escalation.severity)
    )  # fmt: skip
    out += family("pulsehub_open_escalations", "gauge", "Open or acknowledged escalations, by severity.",
                  (({"severity": s}, n) for s, n in esc))  # fmt: skip
    return "\n".join(out) + "\n"


@router.get("/metrics")
def metrics(
    user: Annotated[Principal, Depends(require_user)],
    session: Annotated[Session, Depends(session_scope)],
) -> PlainTextResponse:
    return PlainTextResponse(collect(session), media_type=CONTENT_TYPE)
