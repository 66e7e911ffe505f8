"""CSAT comes with each exported ticket: its satisfaction_rating, typed at the connector."""

from __future__ import annotations

import datetime as dt

from connectors.zendesk_records import ZdTicket
from sync.mapping import ticket_row

BASE = {
    "id": 7,
    "status": "solved",
    "created_at": "2026-03-01T10:00:00Z",
    "updated_at": "2026-03-09T10:00:00Z",
}


def _row(**extra):
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
