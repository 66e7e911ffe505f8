"""The Account describe behind write refusals: kept across processes, refreshed after its TTL,
re-checked when Salesforce rejects a field, and never fatal when describe itself fails."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from connectors.http import RetryPolicy
from connectors.salesforce import SalesforceConnector
from connectors.salesforce_describe import DescribedFields
from connectors.salesforce_records import AccountUpdate
from tests.connectors.conftest import fake_salesforce
from tests.connectors.fake_salesforce import FakeOrg

NOW = dt.datetime.now(dt.UTC)


class MemoryStore:
    """A FieldStore that outlives connectors, as the database does between processes."""

    def __init__(self, described: DescribedFields | None = None) -> None:
        self.described = described
        self.saves = 0

    def load(self) -> DescribedFields | None:
        return self.described

    def save(self, described: DescribedFields) -> None:
        self.described, self.saves = described, self.saves + 1


def ok(record_id: str) -> dict[str, Any]:
    return {"id": record_id, "success": True, "errors": []}


def update(n: int, **fields: Any) -> AccountUpdate:
    return AccountUpdate(id=f"001{n:015d}", fields=fields or {"Health_Score__c": 50 + n})


def process(
    org: FakeOrg, policy: RetryPolicy, store: MemoryStore | None, **kwargs: Any
) -> tuple[SalesforceConnector, Any]:
    """A new connector, as a new `pulsehub sync` process builds one."""
    sf, server = fake_salesforce(org.handler)
    connector = SalesforceConnector(sf, policy=policy, bulk_threshold=None, **kwargs)
    connector.use_field_store(store)
    return connector, server


def stored(names: list[str], age: dt.timedelta, read_only: frozenset[str] = frozenset()):
    return DescribedFields(frozenset(names), read_only, NOW - age)


def test_a_second_process_within_the_ttl_does_not_describe(policy: RetryPolicy) -> None:
    org, store = FakeOrg(), MemoryStore()
    org.collection_results = [[ok(update(1).id)], [ok(update(2).id)]]
    first, _ = process(org, policy, store)
    assert first.update_accounts([update(1)])[0].ok
    assert org.describes == 1 and store.saves == 1
    assert store.described is not None and "Health_Score__c" in store.described.names

    second, server = process(org, policy, store)
    assert second.update_accounts([update(2)])[0].ok
    assert org.describes == 1, "the kept describe is fresh: no describe request"
    assert [r.url.rsplit("/", 1)[-1] for r in server.requests] == ["sobjects"]


def test_a_describe_older_than_the_ttl_is_refreshed(policy: RetryPolicy) -> None:
    org = FakeOrg()
    store = MemoryStore(stored(org.account_fields, dt.timedelta(hours=25)))
    org.collection_results = [[ok(update(1).id)]]
    connector, _ = process(org, policy, store)
    assert connector.update_accounts([update(1)])[0].ok
    assert org.describes == 1 and store.saves == 1
    assert store.described is not None and NOW - store.described.fetched_at < dt.timedelta(1)


def test_the_ttl_is_configurable(policy: RetryPolicy) -> None:
    org = FakeOrg()
    store = MemoryStore(stored(org.account_fields, dt.timedelta(minutes=10)))
    org.collection_results = [[ok(update(1).id)]]
    connector, _ = process(org, policy, store, describe_ttl=dt.timedelta(minutes=5))
    connector.update_accounts([update(1)])
    assert org.describes == 1


def test_a_field_the_kept_describe_lacks_is_refused_with_no_request(policy: RetryPolicy) -> None:
    org = FakeOrg()
    store = MemoryStore(stored(["Id", "Name", "Health_Score__c"], dt.timedelta(hours=1)))
    connector, server = process(org, policy, store)
    [result] = connector.update_accounts([update(1, Health_Status__c="Red")])
    assert not result.ok and not result.retriable and result.error_code == "INVALID_FIELD"
    assert "Health_Status__c" in (result.message or "")
    assert server.requests == [] and org.describes == 0


def test_a_read_only_field_is_refused_with_no_request(policy: RetryPolicy) -> None:
    org = FakeOrg()
    read_only = frozenset({"Health_Score__c"})
    store = MemoryStore(stored(org.account_fields, dt.timedelta(hours=1), read_only))
    connector, server = process(org, policy, store)
    [result] = connector.update_accounts([update(1)])
    assert result.error_code == "INVALID_FIELD_FOR_INSERT_UPDATE" and not result.retriable
    assert server.requests == []


def test_a_rejected_field_describes_again_once_and_the_next_process_refuses(
    policy: RetryPolicy,
) -> None:
    org = FakeOrg()
    store = MemoryStore(stored(org.account_fields, dt.timedelta(hours=1)))
    org.account_fields = [f for f in org.account_fields if f != "Health_Score__c"]  # deleted
    gone = {
        "success": False,
        "errors": [{"statusCode": "INVALID_FIELD", "message": "No such column", "fields": []}],
    }
    updates = [update(n) for n in range(250)]
    org.collection_results = [[gone] * 200, [gone] * 50]
    connector, _ = process(org, policy, store)
    results = connector.update_accounts(updates)
    assert all(r.error_code == "INVALID_FIELD" and not r.retriable for r in results)
    assert org.describes == 1, "one re-describe for the push, however many records failed"
    assert store.described is not None and "Health_Score__c" not in store.described.names

    again, server = process(org, policy, store)
    [result] = again.update_accounts([update(1)])
    assert result.error_code == "INVALID_FIELD" and (result.message or "").startswith("refused")
    assert server.requests == [] and org.describes == 1


def test_a_failed_describe_warns_and_writes_unchecked(policy: RetryPolicy, caplog) -> None:
    org, store = FakeOrg(), MemoryStore()
    org.describe_error = (403, [{"errorCode": "INSUFFICIENT_ACCESS", "message": "no describe"}])
    org.collection_results = [[ok(update(1).id)], [ok(update(2).id)]]
    connector, _ = process(org, policy, store)
    with caplog.at_level(logging.WARNING):
        assert connector.update_accounts([update(1, Health_Trend__c="up")])[0].ok
        assert connector.update_accounts([update(2)])[0].ok
    assert "field existence not checked" in caplog.text
    assert org.describes == 1, "not asked again in the same push"
    assert store.saves == 0 and store.described is None


def test_a_zero_ttl_describes_once_per_push(policy: RetryPolicy) -> None:
    org, store = FakeOrg(), MemoryStore()
    org.collection_results = [[ok(update(1).id), ok(update(2).id)], [ok(update(3).id)]]
    org.collection_results.append([ok(update(4).id)])
    connector, _ = process(org, policy, store, describe_ttl=dt.timedelta(0))
    assert all(r.ok for r in connector.update_accounts([update(1), update(2)]))
    assert connector.update_accounts([update(3)])[0].ok
    assert org.describes == 1, "one describe for the push, not one per record or call"
    connector.use_field_store(store)  # the next push
    assert connector.update_accounts([update(4)])[0].ok
    assert org.describes == 2
