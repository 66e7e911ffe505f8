"""Property: keyset paging delivers every row, never the same version twice, whatever the ties."""

from __future__ import annotations

import datetime as dt

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors.http import RetryPolicy
from connectors.salesforce import SalesforceConnector
from tests.connectors.conftest import fake_salesforce
from tests.connectors.fake_salesforce import FakeOrg, sf_ts

T0 = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
NO_WAIT = RetryPolicy(sleep=lambda _: None)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    stamps=st.lists(st.integers(0, 4), min_size=1, max_size=40),  # few distinct values: ties
    page_size=st.integers(1, 9),
    edits=st.lists(st.tuples(st.integers(1, 12), st.integers(0, 39)), max_size=5),
)
def test_every_row_once_per_version(stamps: list[int], page_size: int, edits) -> None:
    org = FakeOrg()
    org.tables["Account"] = [
        {"Id": f"001{n:015d}", "Name": f"A{n}", "IsDeleted": False,
         "SystemModstamp": sf_ts(T0 + dt.timedelta(seconds=s))}
        for n, s in enumerate(stamps)
    ]  # fmt: skip
    clock = [100]

    def concurrent_edit(query_no: int) -> None:
        for at, row_no in edits:
            if at == query_no and row_no < len(stamps):
                clock[0] += 1
                org.tables["Account"][row_no]["SystemModstamp"] = sf_ts(
                    T0 + dt.timedelta(seconds=clock[0])
                )

    org.on_query = concurrent_edit
    sf, _ = fake_salesforce(org.handler)
    connector = SalesforceConnector(sf, policy=NO_WAIT, page_size=page_size, bulk_threshold=None)
    delivered = [(r.id, r.modstamp) for p in connector.pull("accounts", None) for r in p.records]
    assert len(delivered) == len(set(delivered)), "a version delivered twice"
    final = {
        (r["Id"], dt.datetime.fromisoformat(r["SystemModstamp"])) for r in org.tables["Account"]
    }
    assert final <= set(delivered), "the latest version of every row arrives"
