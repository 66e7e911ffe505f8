"""CSAT comes with each exported ticket: its satisfaction_rating, typed at the connector."""

from __future__ import annotations

import datetime as dt
from typing import Any

from connectors.zendesk_records import ZdTicket
from sync.mapping import ticket_row

BASE = {
    "id": 7,
    "status": "solved",
    "created_at": "2026-03-01T10:00:00Z",
    "updated_at": "2026-03-09T10:00:00Z",
}


def _row(**extra: Any) -> dict[str, Any]:
    return ticket_row(ZdTicket.model_validate({**BASE, **extra}))


def test_answered_rating_is_dated_at_the_solve_from_the_metric_set() -> None:
    row = _row(
        satisfaction_rating={"id": 1, "score": "bad", "comment": "still broken"},
        metric_set={"solved_at": "2026-03-05T08:00:00Z", "reopens": 0},
    )
    assert row["csat"] == "bad"
    assert row["csat_at"] == dt.datetime(2026, 3, 5, 8, tzinfo=dt.UTC)


def test_without_metrics_the_rating_is_dated_at_the_update() -> None:
    row = _row(satisfaction_rating={"score": "good"})
    assert row["csat"] == "good" and row["csat_at"] == dt.datetime(2026, 3, 9, 10, tzinfo=dt.UTC)


def test_offered_but_unanswered_clears_and_absent_leaves_alone() -> None:
    offered = _row(satisfaction_rating={"score": "offered"})
    assert offered["csat"] is None and offered["csat_at"] is None
    for absent in ({}, {"satisfaction_rating": None}, {"satisfaction_rating": "good"}):
        assert "csat" not in _row(**absent)


def test_the_state_key_follows_the_rating_and_not_pulsehubs_band_tags() -> None:
    """A re-rating moves the row's state key (its date stays at the solve); band tags written
    and read back, with the helpdesk's new `updated_at`, move neither key."""
    solved = {"metric_set": {"solved_at": "2026-03-05T08:00:00Z"}}
    good = _row(satisfaction_rating={"score": "good"}, tags=["sso"], **solved)
    bad = _row(satisfaction_rating={"score": "bad"}, tags=["sso"], **solved)
    assert good["csat_at"] == bad["csat_at"] and good["state_key"] != bad["state_key"]
    echo = _row(
        satisfaction_rating={"score": "good"}, tags=["sso", "health_red"], **solved,
        updated_at="2026-03-10T10:00:00Z",
    )  # fmt: skip
    assert (echo["state_key"], echo["content_key"]) == (good["state_key"], good["content_key"])
    assert _row()["state_key"] == _row(satisfaction_rating=None)["state_key"]
