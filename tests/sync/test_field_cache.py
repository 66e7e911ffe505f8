"""The Account describe kept in the database: a drain in a new process reuses it within the TTL."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select, update

from connectors.http import RetryPolicy
from connectors.salesforce import SalesforceConnector
from connectors.salesforce_describe import DESCRIBE_KEY, DescribedFields, DescribeStore
from model.db import transaction
from model.tables import OutboxItem, SourceMetadata
from sync import outbox
from sync.field_cache import StoredMetadata
from sync.jobs import JobConfig, drain_job
from sync.writeback import FieldChange, PlannedWrite, encode
from tests.connectors.conftest import fake_salesforce
from tests.connectors.fake_salesforce import FakeOrg

NO_WAIT = RetryPolicy(max_attempts=2, initial_wait=0, max_wait=0, sleep=lambda _: None)
CONFIG = JobConfig(scorecard=None)


def _store(factory) -> DescribeStore:
    return DescribeStore(StoredMetadata(factory, DESCRIBE_KEY))


def _queue(factory, n: int, field: str = "health_score") -> str:
    target = f"001{n:015d}"
    write = PlannedWrite(
        "salesforce", "crm_account_fields", target, None, [FieldChange(field, None, encode(n))]
    )
    with transaction(factory) as s:
        outbox.enqueue_plan(s, [write])
    return target


def _drain(factory, org: FakeOrg) -> dict[str, Any]:
    """One `pulsehub outbox drain`: a new process, a new connector."""
    sf, _ = fake_salesforce(org.handler)
    connector = SalesforceConnector(sf, policy=NO_WAIT, bulk_threshold=None)
    connector.use_field_store(_store(factory))  # as the runtime wires it
    return drain_job(factory, {"salesforce": connector}, CONFIG)


def _ok(target: str) -> list[dict[str, Any]]:
    return [{"id": target, "success": True, "errors": []}]


def test_describe_is_kept_between_processes_until_the_ttl(factory) -> None:
    org = FakeOrg()
    org.collection_results = [_ok(_queue(factory, 1))]
    assert _drain(factory, org)["done"] == 1
    assert org.describes == 1

    org.collection_results = [_ok(_queue(factory, 2))]
    assert _drain(factory, org)["done"] == 1
    assert org.describes == 1, "a second run within the TTL makes no describe request"

    with transaction(factory) as s:
        s.execute(
            update(SourceMetadata)
            .where(SourceMetadata.key == DESCRIBE_KEY)
            .values(fetched_at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=25))
        )
    org.collection_results = [_ok(_queue(factory, 3))]
    assert _drain(factory, org)["done"] == 1
    assert org.describes == 2, "after the TTL it describes again"


def test_stored_fields_round_trip(factory) -> None:
    store = _store(factory)
    assert store.load() is None
    when = dt.datetime(2025, 6, 1, 12, tzinfo=dt.UTC)
    store.save(DescribedFields(frozenset({"Id", "A__c"}), frozenset({"Id"}), when))
    store.save(DescribedFields(frozenset({"Id", "B__c"}), frozenset(), when))
    loaded = store.load()
    assert loaded == DescribedFields(frozenset({"Id", "B__c"}), frozenset(), when)


def test_retrying_a_refused_account_write_forgets_the_describe(factory) -> None:
    org = FakeOrg()
    _store(factory).save(DescribedFields(frozenset({"Id"}), frozenset(), dt.datetime.now(dt.UTC)))
    _queue(factory, 1)
    assert _drain(factory, org)["dead"] == 1 and org.describes == 0  # refused, no request
    with transaction(factory) as s:
        dead = s.execute(select(OutboxItem.id).where(OutboxItem.status == "dead")).scalar_one()
        assert outbox.retry_dead(s, [dead]) == 1
    assert _store(factory).load() is None
    org.collection_results = [_ok(f"001{1:015d}")]
    assert _drain(factory, org)["done"] == 1 and org.describes == 1
