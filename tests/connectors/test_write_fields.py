"""Logical write-back fields rendered by the shipped field maps, and refused when unmapped."""

from __future__ import annotations

from typing import Any

import pytest

from connectors.base import WriteItem
from connectors.salesforce_fields import SalesforceFieldMap
from connectors.salesforce_writer import SalesforceOutboxWriter
from connectors.write_fields import FieldRule
from connectors.zendesk_writer import load_org_fields

REASONS = [{"text": "active users down 42%"}, {"text": "2 urgent tickets"}, "NPS 3", "x"]
LOGICAL: dict[str, Any] = {
    "health_score": 72.5,
    "health_band": "insufficient_data",
    "health_trend": -5.25,
    "health_reasons": REASONS,
    "renewal_risk": 0.31416,
    "renewal_risk_level": "medium",
    "renewal_risk_drivers": [],
}


def test_salesforce_renders_as_its_account_fields_hold_them() -> None:
    rendered = SalesforceFieldMap().write_fields().render(LOGICAL)
    assert rendered == {
        "health_score": 72,
        "health_band": "Insufficient Data",
        "health_trend": -5.2,
        "health_reasons": "active users down 42%; 2 urgent tickets; NPS 3",
        "renewal_risk": 31.4,
        "renewal_risk_level": "Medium",
        "renewal_risk_drivers": "",
    }
    assert isinstance(rendered["health_score"], int)


def test_zendesk_renders_raw_bands_and_whole_percentages() -> None:
    rendered = load_org_fields().render(LOGICAL)
    assert rendered == {
        "health_score": 72,
        "health_band": "insufficient_data",
        "renewal_risk": 31,
        "renewal_risk_level": "medium",
    }
    assert load_org_fields().to_api(rendered)["health_status"] == "insufficient_data"


@pytest.mark.parametrize(
    ("rule", "value", "written"),
    [
        (FieldRule(api="A", digits=0), None, None),
        (FieldRule(api="A", case="label"), None, None),
        (FieldRule(api="A", case="label"), "", None),
        (FieldRule(api="A", scale=100, digits=1), 0.1234, 12.3),
        (FieldRule(api="A", items=1, max_chars=4), ["abcdef", "g"], "abcd"),
        (FieldRule(api="A"), True, True),
    ],
)
def test_rule_rendering(rule: FieldRule, value: Any, written: Any) -> None:
    assert rule.render(value) == written


def test_a_logical_field_outside_the_map_is_refused_before_any_call() -> None:
    writer = SalesforceOutboxWriter(None, SalesforceFieldMap())  # type: ignore[arg-type]
    item = WriteItem("001A", {"fields": {"health_score": 3, "arr": 5}}, key="k")
    [result] = writer.push("crm_account_fields", [item])
    assert not result.ok and result.error_code == "FIELD_NOT_WRITABLE"
    assert "arr" in (result.message or "") and "writable_fields" in (result.message or "")
