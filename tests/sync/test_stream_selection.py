"""The streams a run reads are derived from the connectors' declarations: the order and the
dated, reconcile and refresh sets the pipeline and jobs listed by hand before."""

from __future__ import annotations

import datetime as dt

import pytest

from connectors.base import ENTITIES, Connector, Writer
from connectors.salesforce import SalesforceConnector
from connectors.usage import UsageConnector
from connectors.zendesk import ZendeskConnector
from connectors.zendesk_records import ZdOrganization
from sync.instances import sink_for
from sync.mapping import SINKS
from sync.pull import select_streams
from tests.connectors.conftest import sandbox_salesforce, sandbox_usage, sandbox_zenpy

NOWHERE = "http://127.0.0.1:9"  # clients are built, never called

# the lists sync/pipeline.py and sync/jobs.py held before streams were declared
FORMER_ORDER = [
    ("salesforce", "accounts"),
    ("salesforce", "opportunities"),
    ("salesforce", "contacts"),
    ("zendesk", "organizations"),
    ("zendesk", "tickets"),
    ("usage", "workspaces"),
    ("usage", "daily_usage"),
    ("usage", "surveys"),  # survey answers (voice of the customer) came after the others
    ("usage", "users"),  # declared later: who has access (access reviews)
]
FORMER_RECONCILE = {
    ("salesforce", "accounts"),
    ("salesforce", "opportunities"),
    ("salesforce", "contacts"),
    ("zendesk", "organizations"),
    ("usage", "workspaces"),
    ("usage", "users"),
}


@pytest.fixture
def connectors(monkeypatch: pytest.MonkeyPatch) -> dict[str, Connector]:
    built: list[Connector] = [  # deliberately not in pull order
        UsageConnector(sandbox_usage(NOWHERE)),
        ZendeskConnector(sandbox_zenpy(NOWHERE, monkeypatch)),
        SalesforceConnector(sandbox_salesforce(NOWHERE)),
    ]
    return {c.name: c for c in built}


def _pairs(planned) -> list[tuple[str, str]]:
    return [(p.source, p.stream.name) for p in planned]


def test_every_connector_is_a_connector_feeding_known_entities(connectors) -> None:
    for c in connectors.values():
        assert isinstance(c, Connector)
        assert all(s.entity in ENTITIES and s.entity in SINKS for s in c.streams.values())
        assert isinstance(c.writer, Writer) if c.kind != "usage" else c.writer is None
    assert {c.kind for c in connectors.values()} == {"crm", "helpdesk", "usage"}


def test_selected_streams_reproduce_the_former_lists(connectors) -> None:
    every = select_streams(connectors.values(), "all")
    assert _pairs(every) == FORMER_ORDER
    assert {(p.source, p.stream.name) for p in every if p.stream.dated} == {
        ("usage", "daily_usage")
    }
    assert {(p.source, p.stream.name) for p in every if p.stream.reconcile} == FORMER_RECONCILE
    assert _pairs(select_streams(connectors.values(), "reconcile")) == FORMER_ORDER
    assert _pairs(select_streams(connectors.values(), "refresh")) == [("zendesk", "tickets")]


def test_a_source_keeps_its_configured_name(monkeypatch: pytest.MonkeyPatch) -> None:
    eu = ZendeskConnector(sandbox_zenpy(NOWHERE, monkeypatch), name="zendesk-eu")
    assert _pairs(select_streams([eu], "refresh")) == [("zendesk-eu", "tickets")]
    org = ZdOrganization(id=7, name="Acme", updated_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    row = SINKS["organization"].row(org, eu.name)
    assert (row["source"], row["external_id"]) == ("zendesk-eu", "7")


def test_a_run_takes_two_sources_of_every_kind(connectors, monkeypatch: pytest.MonkeyPatch) -> None:
    eu = ZendeskConnector(sandbox_zenpy(NOWHERE, monkeypatch), name="zendesk_eu")
    planned = _pairs(select_streams([*connectors.values(), eu], "all"))
    assert [p for p in planned if p[1] in ("organizations", "tickets")] == [
        ("zendesk", "organizations"),
        ("zendesk", "tickets"),
        ("zendesk_eu", "organizations"),
        ("zendesk_eu", "tickets"),
    ]
    second_usage = UsageConnector(sandbox_usage(NOWHERE), name="usage-eu")
    planned = _pairs(select_streams([*connectors.values(), second_usage], "all"))
    assert planned[-4:] == [
        ("usage-eu", "workspaces"), ("usage-eu", "daily_usage"), ("usage-eu", "surveys"),
        ("usage-eu", "users"),
    ]  # fmt: skip
    # a second crm: the first is primary (its accounts are canonical), the other's accounts
    # land as identities to resolve
    books = SalesforceConnector(sandbox_salesforce(NOWHERE), name="books")
    both = {**connectors, "books": books}
    assert ("books", "accounts") in _pairs(select_streams(both.values(), "all"))
    assert sink_for("account", "salesforce", both) == "account"
    assert sink_for("account", "books", both) == "crm_account"
    assert sink_for("opportunity", "books", both) == "opportunity"
