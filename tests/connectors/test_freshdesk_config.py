"""Freshdesk options and field map fail at start-up naming the key and the fix; a record
Freshdesk sends that cannot be read is quarantined with its reason while the pull goes on."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from connectors.base import SourceConfig
from connectors.errors import ConfigError
from connectors.freshdesk import FreshdeskConnector
from connectors.freshdesk_fields import load_field_map
from connectors.freshdesk_source import build
from connectors.http import RetryPolicy
from connectors.registry import build_source

GOOD = {"domain": "acme", "api_key": "k"}


def test_the_entry_point_builds_the_connector_without_a_request() -> None:
    fd = build_source(SourceConfig("support", "freshdesk", GOOD))
    assert fd.name == "support" and fd.kind == "helpdesk" and fd.title == "Freshdesk"
    assert fd.calls == 0
    assert set(fd.streams) == {"companies", "tickets"}
    assert fd.writer is not None and set(fd.writer.kinds) == {
        "helpdesk_org_fields", "helpdesk_ticket_tags", "helpdesk_ticket",
        "helpdesk_escalation_tags", "helpdesk_comment",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("options", "key"),
    [
        ({"api_key": "k"}, "domain"),
        ({**GOOD, "domain": "Acme Inc"}, "domain"),
        ({**GOOD, "apikey": "k"}, "apikey"),
        ({**GOOD, "loopback_url": "http://example.com"}, "loopback_url"),
    ],
)
def test_bad_options_name_the_key(options, key) -> None:
    with pytest.raises(ConfigError) as err:
        build(SourceConfig("freshdesk", "freshdesk", options))
    assert key in str(err.value)


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("company_fields: {health_score: {api: hs}}\nticket_statuses: {8: waiting}\n", "8"),
        ("company_fields: {health_score: {apii: hs}}\n", "company_fields.health_score"),
        ("link_field: crm\n", "company_fields"),
        ("company_fields: {}\nlink: x\n", "link"),
    ],
)
def test_a_bad_field_map_names_the_file_and_key(tmp_path: Path, text, named) -> None:
    path = tmp_path / "fd.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        load_field_map(path)
    assert str(path) in str(err.value) and named in str(err.value)


def test_custom_statuses_from_the_map(tmp_path: Path) -> None:
    path = tmp_path / "fd.yaml"
    path.write_text("company_fields: {}\nticket_statuses: {9: solved}\n")
    assert load_field_map(path).ticket_statuses == {9: "solved"}


def test_an_unreadable_ticket_is_quarantined_and_the_pull_goes_on() -> None:
    good = {"id": 1, "status": 2, "priority": 4, "responder_id": 7, "company_id": 5,
            "created_at": "2025-01-01T00:00:00Z", "updated_at": "2025-01-02T00:00:00Z",
            "tags": ["a"], "stats": {"first_responded_at": "2025-01-01T01:30:00Z",
                                     "resolved_at": None}}  # fmt: skip
    bad = {**good, "id": 2, "created_at": "yesterday"}
    unknown = {**good, "id": 3, "status": 12}  # a custom status the map does not know

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("satisfaction_ratings"):
            return httpx.Response(200, json=[{"id": 8, "ticket_id": "one", "ratings": {}}])
        if request.url.params.get("filter") == "deleted":
            return httpx.Response(200, json=[])
        return httpx.Response(200, json=[good, bad, unknown, "not an object"])

    client = httpx.Client(
        base_url="https://acme.freshdesk.com/api/v2/", transport=httpx.MockTransport(answer)
    )
    fd = FreshdeskConnector(client, policy=RetryPolicy(sleep=lambda _: None))
    pages = list(fd.pull("tickets", None))
    records = [r for p in pages for r in p.records]
    rejected = [r for p in pages for r in p.rejected]
    assert [(r.id, r.status) for r in records] == [(1, "open"), (3, "hold")]
    assert records[0].priority == "urgent" and records[0].metric.reply_time_minutes == 90
    assert [(r.stream, r.external_id) for r in rejected] == [
        ("ratings", "8"), ("tickets", "2"), ("tickets", None),
    ]  # fmt: skip
    assert "ticket_id" in rejected[0].reason and "created_at" in rejected[1].reason
    assert json.loads(pages[-1].cursor)["since"] == "2025-01-02T00:00:00Z"
