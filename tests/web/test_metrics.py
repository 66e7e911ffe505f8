"""`/metrics` speaks the Prometheus text format and its numbers come from the model."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from model.tables import OutboxItem, QuarantinedRecord
from tests.web.conftest import VIEWER_TOKEN, client_for

LINE = re.compile(r'^[a-z_]+(\{([a-z_]+="[^"]*",?)*\})? -?[0-9.e+]+$')


def scrape(app) -> dict[str, float]:
    r = client_for(app, VIEWER_TOKEN).get("/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith(
        "text/plain; version=0.0.4"
    )
    out = {}
    for line in r.text.splitlines():
        if line.startswith("#"):
            assert line.startswith(("# HELP ", "# TYPE "))
            continue
        assert LINE.match(line), line
        key, value = line.rsplit(" ", 1)
        out[key] = float(value)
    return out


def test_metrics_match_the_database(app_parts):
    app, factory, book = app_parts
    m = scrape(app)
    with factory() as s:
        by = dict(((sys, st), n) for sys, st, n in s.execute(
            select(OutboxItem.system, OutboxItem.status, func.count()).group_by(OutboxItem.system, OutboxItem.status)))  # fmt: skip
        quarantined = s.scalar(select(func.count()).select_from(QuarantinedRecord))
    for (sys, st), n in by.items():
        assert m[f'pulsehub_outbox_items{{status="{st}",system="{sys}"}}'] == n
    assert m["pulsehub_dead_letters"] == len(book.dead_ids)
    assert m["pulsehub_quarantined_records"] == quarantined
    assert m['pulsehub_sync_runs_total{kind="sync",status="succeeded"}'] == 8
    assert m['pulsehub_records{table="accounts"}'] == book.accounts
    assert m['pulsehub_api_calls_last_run{system="salesforce"}'] == 29  # the newest run's api_calls
    assert m['pulsehub_api_quota_used{system="salesforce"}'] == 1770
    assert m['pulsehub_api_quota_limit{system="salesforce"}'] == 100_000
    assert 'pulsehub_api_quota_used{system="zendesk"}' not in m  # Zendesk reports no daily quota
    assert m['pulsehub_last_run_records_pulled{stream="zendesk.tickets"}'] == 360
    assert m["pulsehub_identity_review_queue"] == len(book.review_ids)


def test_metrics_follow_an_operator_retry(app_parts):
    from tests.web.conftest import OPERATOR_TOKEN

    app, _, book = app_parts
    client_for(app, OPERATOR_TOKEN).post(
        "/ops/outbox/retry", data={"item_id": str(book.dead_ids[0])}
    )
    assert scrape(app)["pulsehub_dead_letters"] == len(book.dead_ids) - 1


def test_metrics_parse_with_prometheus_clients_parser_and_carry_the_health_figures(app_parts):
    from prometheus_client.parser import text_string_to_metric_families

    from model.tables import HealthSnapshot, SyncRun

    app, factory, _ = app_parts
    text = client_for(app, VIEWER_TOKEN).get("/metrics").text
    families = {f.name: f for f in text_string_to_metric_families(text)}
    assert families["pulsehub_sync_runs"].type == "counter"
    with factory() as s:
        day = s.scalar(select(func.max(HealthSnapshot.as_of)))
        bands = dict(
            s.execute(
                select(HealthSnapshot.band, func.count())
                .where(HealthSnapshot.as_of == day)
                .group_by(HealthSnapshot.band)
            ).all()
        )
        last_ok = s.scalar(
            select(func.max(SyncRun.finished_at)).where(SyncRun.status == "succeeded")
        )
        pending = s.scalar(
            select(func.count()).select_from(OutboxItem).where(OutboxItem.status == "pending")
        )
    got_bands = {x.labels["band"]: x.value for x in families["pulsehub_accounts_by_band"].samples}
    assert got_bands == bands and sum(got_bands.values()) > 0
    ok = {
        x.labels["kind"]: x.value
        for x in families["pulsehub_last_successful_run_timestamp_seconds"].samples
    }
    assert ok["sync"] == last_ok.timestamp()
    assert sum(x.value for x in families["pulsehub_outbox_backlog"].samples) == pending
