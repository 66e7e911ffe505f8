"""`/metrics`: the model's figures in the Prometheus text format, through prometheus-client.

Each scrape builds a registry holding one collector bound to the request's session, so every
number is read from the database at scrape time (any number of web processes agree).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import Response
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from sqlalchemy.orm import Session

from model.tables import SyncRun
from pulsehub.web.auth import Principal, require_user
from pulsehub.web.rendering import session_scope
from reporting import metrics as figures
from reporting.operations import api_usage, recent_runs

router = APIRouter()
CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4


def gauge(name: str, text: str, labels: list[str], rows: Iterable[tuple[Any, ...]]) -> Metric:
    """A gauge family from rows of (*label values, value)."""
    g = GaugeMetricFamily(name, text, labels=labels)
    for *values, value in rows:
        g.add_metric([str(v) for v in values], float(value))
    return g


class ModelCollector:
    """Reads every figure from the model when the registry collects."""

    def __init__(self, session: Session) -> None:
        self.s = session

    def collect(self) -> Iterator[Metric]:
        s = self.s
        runs = CounterMetricFamily(
            "pulsehub_sync_runs",
            "Sync runs recorded, by kind and status.",
            labels=["kind", "status"],
        )
        for kind, status, n in figures.runs_by_kind_and_status(s):
            runs.add_metric([kind, status], n)
        yield runs
        yield gauge(
            "pulsehub_sync_last_run_timestamp_seconds", "Start of the newest run, by kind.", ["kind"],
            ((k, t.timestamp()) for k, t in figures.newest_start_by_kind(s)),
        )  # fmt: skip
        yield gauge(
            "pulsehub_last_successful_run_timestamp_seconds",
            "End of the newest run that succeeded, by kind (alert when it grows old).", ["kind"],
            ((k, t.timestamp()) for k, t in figures.newest_success_by_kind(s)),
        )  # fmt: skip
        newest = recent_runs(s, 20)
        finished = next((r for r in newest if r.status != "running"), None)
        pulled: dict[str, Any] = ((finished.stats or {}).get("pulled") or {}) if finished else {}
        yield gauge(
            "pulsehub_last_run_records_pulled", "Records pulled per stream by the newest finished run.",
            ["stream"], ((k, n) for k, n in sorted(pulled.items()) if isinstance(n, int | float)),
        )  # fmt: skip
        yield gauge(
            "pulsehub_records", "Rows in the unified model, by table.", ["table"],
            figures.table_rows(s),
        )  # fmt: skip
        yield from self._api(newest)
        yield from self._health()
        yield from self._outbox()
        yield from self._queues()

    def _api(self, newest: list[SyncRun]) -> Iterator[Metric]:
        api = api_usage(newest)
        for name, key, text in (
            ("pulsehub_api_calls_last_run", "calls", "API calls made by the newest run that made any."),
            ("pulsehub_api_quota_used", "used", "API quota used, as last reported by the system."),
            ("pulsehub_api_quota_limit", "limit", "API quota limit, as last reported by the system."),
        ):  # fmt: skip
            rows = (
                (sys, f[key])
                for sys, f in sorted(api.items())
                if isinstance(f.get(key), int | float)
            )
            yield gauge(name, text, ["system"], rows)

    def _health(self) -> Iterator[Metric]:
        yield gauge("pulsehub_accounts_by_band", "Accounts scored on the newest day, by health band.",
                    ["band"], figures.bands_on_newest_day(self.s))  # fmt: skip

    def _outbox(self) -> Iterator[Metric]:
        rows = figures.outbox_by_system_kind_status(self.s)
        by_system: dict[tuple[str, str], int] = {}
        for system, _, status, n in rows:
            by_system[(system, status)] = by_system.get((system, status), 0) + n
        yield gauge("pulsehub_outbox_items", "Write-back outbox items, by system and status.",
                    ["system", "status"], ((sy, st, n) for (sy, st), n in sorted(by_system.items())))  # fmt: skip
        yield gauge("pulsehub_outbox_backlog", "Outbox items waiting to be pushed, by kind.", ["kind"],
                    ((k, n) for _, k, st, n in rows if st == "pending"))  # fmt: skip
        yield gauge("pulsehub_dead_letters", "Outbox items given up on (status dead).", [],
                    [(sum(n for *_, st, n in rows if st == "dead"),)])  # fmt: skip

    def _queues(self) -> Iterator[Metric]:
        s = self.s
        yield gauge("pulsehub_quarantined_records", "Source records that failed validation.", [],
                    [(figures.quarantine_size(s),)])  # fmt: skip
        yield gauge("pulsehub_identity_review_queue", "External records waiting for an identity decision.",
                    [], [(figures.identity_review_size(s),)])  # fmt: skip
        yield gauge("pulsehub_open_escalations", "Open or acknowledged escalations, by severity.",
                    ["severity"], figures.open_escalations_by_severity(s))  # fmt: skip


def collect(session: Session) -> str:
    """The exposition text for one scrape."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(ModelCollector(session))  # type: ignore[arg-type]
    return generate_latest(registry).decode()


@router.get("/metrics")
def metrics(
    user: Annotated[Principal, Depends(require_user)],
    session: Annotated[Session, Depends(session_scope)],
) -> Response:
    return Response(collect(session), media_type=CONTENT_TYPE)
