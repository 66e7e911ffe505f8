"""The Salesforce field map: YAML loading, clear start-up errors, extra fields in the pull."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from connectors.errors import ConfigError
from connectors.salesforce import SalesforceConnector
from connectors.salesforce_fields import SalesforceFieldMap, load_field_map
from tests.connectors.conftest import fake_salesforce
from tests.connectors.fake_salesforce import FakeOrg, sf_ts


def test_shipped_yaml_loads_with_the_documented_defaults() -> None:
    fields = load_field_map()
    assert fields.arr == "ARR__c" and fields.renewal_date == "Renewal_Date__c"
    assert fields.write_fields() == SalesforceFieldMap().write_fields()
    assert fields.task_key_field is None


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("arr: ARR__c\nwritable_field: [Health_Score__c]\n", "writable_field"),
        (
            "writable_fields:\n  health_score: {api: Health_Score__c, digits: two}\n",
            "writable_fields.health_score.digits",
        ),
        ("writable_fields:\n  health_score: {api: 'Health; DROP'}\n", "writable_fields"),
        # an earlier key beside its new name: which one was meant is not guessed
        ("organization_id: Org__c\nzendesk_org_id: Old__c\n", "zendesk_org_id"),
    ],
)
def test_bad_file_names_the_file_and_the_key(tmp_path: Path, text: str, key: str) -> None:
    path = tmp_path / "fields.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        load_field_map(path)
    assert str(path) in str(err.value) and key in str(err.value)


def test_the_earlier_keys_of_the_linked_ids_still_read(tmp_path: Path) -> None:
    path = tmp_path / "fields.yaml"
    path.write_text("zendesk_org_id: Org__c\nusage_workspace_id: null\n")
    fields = load_field_map(path)
    assert (fields.organization_id, fields.workspace_id) == ("Org__c", None)
    assert "organization_id" in fields.mapped() and "workspace_id" not in fields.mapped()


def test_extra_fields_must_be_api_names() -> None:
    with pytest.raises(ValueError, match="API field names"):
        SalesforceFieldMap(extra_fields=["Name; DROP"])


def test_remapped_and_extra_fields_reach_the_record(policy, tmp_path: Path) -> None:
    path = tmp_path / "fields.yaml"
    path.write_text("arr: Annual_Revenue__c\ntier: null\nextra_fields: [NumberOfEmployees]\n")
    org = FakeOrg()
    org.tables["Account"] = [
        {"Id": "001000000000000AAA", "Name": "Acme", "Annual_Revenue__c": 5.0, "NumberOfEmployees": 40,
         "IsDeleted": False, "SystemModstamp": sf_ts(dt.datetime(2024, 1, 1, tzinfo=dt.UTC))}
    ]  # fmt: skip
    sf, _ = fake_salesforce(org.handler)
    connector = SalesforceConnector(sf, load_field_map(path), policy=policy, bulk_threshold=None)
    [page] = list(connector.pull("accounts", None))
    [account] = page.records
    assert (
        account.arr == 5.0 and account.tier is None and account.extra == {"NumberOfEmployees": 40}
    )
    assert "Annual_Revenue__c" in org.queries[0] and "Tier__c" not in org.queries[0]


def test_opportunity_term_is_read_from_the_configured_field() -> None:
    from connectors.salesforce_records import SfOpportunity, opportunity_from_row
    from connectors.salesforce_streams import SPECS
    from sync.mapping import opportunity_row

    row = {"Id": "006000000000000001", "AccountId": "001000000000000001", "Type": "Renewal",
           "Amount": 300_000.0, "IsClosed": True, "IsWon": True, "Term_Months__c": 36.0,
           "SystemModstamp": "2025-01-01T00:00:00.000+0000"}  # fmt: skip
    fields = load_field_map()  # the shipped file names the sandbox's field
    assert fields.opportunity_term == "Term_Months__c"
    assert "Term_Months__c" in SPECS["opportunities"].select(fields)
    rec = SfOpportunity.model_validate(opportunity_from_row(row, fields))
    assert rec.term_months == 36 and opportunity_row(rec)["term_months"] == 36
    none = SalesforceFieldMap()  # an org's own file without the key: no term field read
    assert "Term_Months__c" not in SPECS["opportunities"].select(none)
    assert SfOpportunity.model_validate(opportunity_from_row(row, none)).term_months is None
