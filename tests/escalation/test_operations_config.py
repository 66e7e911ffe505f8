"""The operations config: the shipped default loads; a bad file names the file, key and fix."""

from __future__ import annotations

import datetime as dt

import pytest

from connectors.errors import ConfigError
from escalation.operations import (
    load_operations,
    quarter_of,
    rca_reminder_text,
    renewal_task_text,
)


def test_shipped_default_loads_with_every_review_on():
    config = load_operations()
    assert config.renewal_review.enabled and config.renewal_review.days_ahead == 90
    assert config.renewal_review.at_risk_bands == ["yellow", "red"]
    assert config.rca.due_hours == 72 and config.rca.done_tags == ["rca_done"]
    assert config.access_review.inactive_days == 90


def test_a_bad_file_names_the_file_the_key_and_the_fix(tmp_path):
    bad = tmp_path / "ops.yaml"
    bad.write_text("rca:\n  due_hours: -1\nrenewal_reviews: {}\n")
    with pytest.raises(ConfigError) as err:
        load_operations(bad)
    message = str(err.value)
    assert str(bad) in message and "rca.due_hours" in message and "renewal_reviews" in message
    assert "PULSEHUB_OPERATIONS_FILE" in message


def test_renewal_text_carries_the_risk_assessment_and_at_risk_steps():
    class Snap:
        score, band, as_of, renewal_risk, risk_level = (
            48.0,
            "yellow",
            dt.date(2026, 12, 1),
            0.31,
            "high",
        )
        risk_drivers = [{"driver": "health", "text": "logins fell 40%"}]
        reasons = [{"text": "3 urgent tickets open"}]

    config = load_operations().renewal_review
    subject, body = renewal_task_text(
        config, name="Acme", renewal_date=dt.date(2027, 2, 1), arr=120000.0, snapshot=Snap()
    )
    assert subject == "Renewal review: Acme renews 2027-02-01 (yellow)"
    assert "health: 48/100, yellow" in body and "renewal risk: 31% (high)" in body
    assert "logins fell 40%" in body and "success plan" in body
    _, green = renewal_task_text(
        config, name="Acme", renewal_date=dt.date(2027, 2, 1), arr=None, snapshot=None
    )
    assert "not scored yet" in green and "success plan" not in green


def test_quarters_and_reminder_text():
    assert (
        quarter_of(dt.date(2026, 12, 3)) == "2026Q4" and quarter_of(dt.date(2027, 1, 1)) == "2027Q1"
    )
    rca = load_operations().rca
    text = rca_reminder_text(rca, dt.datetime(2026, 12, 6, 12, 0, tzinfo=dt.UTC))
    assert "72 h" in text and "2026-12-06 12:00 UTC" in text and "rca_done" in text
