"""Least privilege: a write outside the configured allow-list is refused before any request.

The connectors are the ones production wiring builds (`pulsehub.runtime.Runtime`), against
the sandbox; "before any request" is asserted on the sandbox's own request log. Last, a
whole sync with a narrowed Salesforce allow-list (a fields YAML) writes only what it allows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import select

from connectors.base import WriteItem
from connectors.records import WriteResult
from connectors.salesforce_records import AccountUpdate
from connectors.zendesk import ZendeskConnector
from connectors.zendesk_records import OrgUpdate
from connectors.zendesk_source import build_zendesk
from model.db import upgrade
from model.tables import OutboxItem
from pulsehub.demo import sandbox_settings
from pulsehub.runtime import Runtime
from sandbox import Sandbox
from sync.outbox import enqueue_plan
from sync.writeback import FieldChange, PlannedWrite, encode

NOW = dt.datetime(2026, 11, 2, 12, tzinfo=dt.UTC)
SF_ID = "001000000000001AAA"  # never reached: the refusal comes first


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with Sandbox(accounts=6, seed=4, now=NOW) as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def connectors(sb: Sandbox, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    db = tmp_path_factory.mktemp("lp") / "lp.db"
    return Runtime(sandbox_settings(sb.base_url, f"sqlite:///{db}")).connectors


def _refused_without_request(sb: Sandbox, write: Callable[[], list[WriteResult]]) -> list[str]:
    before = len(sb.requests)
    results = write()
    assert results and all(not r.ok for r in results), results
    assert sb.requests[before:] == [], "a refused write must not reach the API"
    return [r.error_code or "" for r in results]


SF_OUTSIDE = [
    {"Name": "Renamed Inc"},
    {"OwnerId": "005000000000001AAA"},
    {"AnnualRevenue": 1},
    {"Health_Score__c": 50, "ARR__c": 0},  # one allowed field does not carry a forbidden one
    {"health_score__c": 50},  # not the allow-listed spelling
    {"Health_Score__c ": 50},
]


@pytest.mark.parametrize("fields", SF_OUTSIDE)
def test_salesforce_field_outside_allow_list(sb, connectors, fields) -> None:
    sf = connectors["salesforce"]
    codes = _refused_without_request(
        sb, lambda: sf.update_accounts([AccountUpdate(id=SF_ID, fields=fields)])
    )
    assert codes == ["FIELD_NOT_WRITABLE"]


ZD_OUTSIDE = [
    {"notes": "x"},
    {"external_id": "001"},
    {"health_score": 1, "tier": "gold"},
    {"Health_Score": 1},
]


@pytest.mark.parametrize("fields", ZD_OUTSIDE)
def test_zendesk_org_field_outside_allow_list(sb, connectors, fields) -> None:
    zd = connectors["zendesk"]
    codes = _refused_without_request(
        sb, lambda: zd.update_organizations([OrgUpdate(id=1, fields=fields)])
    )
    assert codes == ["FIELD_NOT_WRITABLE"]


LOGICAL_OUTSIDE = [
    {"arr": 1},
    {"health_score": 50, "name": "Renamed Inc"},
    {"Health_Score__c": 50},  # an API name is not a logical field
    {"health_status": "green"},
]


@pytest.mark.parametrize("fields", LOGICAL_OUTSIDE)
@pytest.mark.parametrize(("system", "kind"), [("salesforce", "crm_account_fields"),
                                              ("zendesk", "helpdesk_org_fields")])  # fmt: skip
def test_writer_refuses_a_logical_field_outside_its_map(sb, connectors, system, kind, fields):
    writer = connectors[system].writer
    item = WriteItem(SF_ID if system == "salesforce" else "1", {"fields": fields}, False)
    codes = _refused_without_request(sb, lambda: list(writer.push(kind, [item])))
    assert codes == ["FIELD_NOT_WRITABLE"]


TAGS_OUTSIDE = [["vip"], ["health_green", "churn_me"], ["Health_Green"], [""]]


@pytest.mark.parametrize("tags", TAGS_OUTSIDE)
def test_zendesk_tag_outside_allow_list(sb, connectors, tags) -> None:
    zd = connectors["zendesk"]
    for write in (
        lambda: [zd.add_ticket_tags(1, tags)],
        lambda: [zd.remove_ticket_tags(1, tags)],
        lambda: zd.update_ticket_tags([1, 2], tags, []),
        lambda: zd.update_ticket_tags([1, 2], [], tags),
    ):
        assert set(_refused_without_request(sb, write)) == {"TAG_NOT_ALLOWED"}


def test_an_empty_tag_allow_list_allows_no_tag(sb) -> None:
    zenpy = build_zendesk(sandbox_settings(sb.base_url, "sqlite://").zendesk)
    locked = ZendeskConnector(zenpy, allowed_tags=[])
    for write in (
        lambda: [locked.add_ticket_tags(1, ["health_green"])],
        lambda: locked.update_ticket_tags([1], ["health_green"], []),
    ):
        assert set(_refused_without_request(sb, write)) == {"TAG_NOT_ALLOWED"}


def test_sync_with_a_narrowed_allow_list_writes_no_other_field(tmp_path: Path) -> None:
    """A field the YAML no longer maps is neither planned nor sent; a pending write of one (queued
    before the YAML was narrowed) is dead-lettered."""
    shipped = Path(__file__).resolve().parents[2] / "connectors" / "salesforce_fields.yaml"
    config = yaml.safe_load(shipped.read_text())
    config["writable_fields"] = {"health_score": config["writable_fields"]["health_score"]}
    fields_file = tmp_path / "fields.yaml"
    fields_file.write_text(yaml.safe_dump(config))
    db_url = f"sqlite:///{tmp_path / 'narrow.db'}"
    upgrade(db_url)
    with Sandbox(accounts=6, seed=4, now=NOW) as box:
        settings = sandbox_settings(box.base_url, db_url)
        settings.salesforce.fields_file = fields_file
        rt = Runtime(settings)
        try:
            stale = PlannedWrite("salesforce", "crm_account_fields", box.world.account_ids()[0],
                                 None, [FieldChange("health_band", None, encode("Red"))])  # fmt: skip
            with rt.factory() as session, session.begin():
                enqueue_plan(session, [stale])
            rt.drain()  # before the sync, whose plan would replace the stale write
            rt.sync(as_of=NOW.date())
            with rt.factory() as session:
                items = session.scalars(
                    select(OutboxItem).where(OutboxItem.kind == "crm_account_fields")
                ).all()
                outcomes = [
                    (i.status, i.last_error or "", set(i.payload.get("fields", {}))) for i in items
                ]
        finally:
            rt.close()
        account_writes = [w for w in box.writes if w["kind"] == "account_fields"]
        sent = [
            set(rec) - {"attributes", "id"}
            for r in box.requests
            if r["system"] == "salesforce" and isinstance(r["body"], dict)
            for rec in r["body"].get("records", [])
            if rec.get("attributes", {}).get("type") == "Account"
        ]
    [(status, error, _)] = [o for o in outcomes if o[2] == {"health_band"}]
    assert status == "dead" and "not in writable_fields" in error, (status, error)
    planned = [fields for _, _, fields in outcomes if fields != {"health_band"}]
    assert planned and all(fields == {"health_score"} for fields in planned)
    assert all(fields <= {"Health_Score__c"} for fields in sent)
    assert all(set(w["changes"]) <= {"Health_Score__c"} for w in account_writes)
