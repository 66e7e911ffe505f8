"""The push reads due items as plain rows: the values the push and its records need, each
distinct payload parsed once (a tag window holds 25,000 items that share a few changes)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from model.tables import OutboxItem
from sync import outbox
from sync.outbox_results import DueItem

NOW = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
RED = {"add": ["pulsehub_health_red"], "remove": ["pulsehub_health_green"]}


def _item(n: int, payload: dict, **kw) -> OutboxItem:
    return OutboxItem(
        key=f"k{n}", system="zendesk", kind="helpdesk_ticket_tags", target_id=str(n),
        payload=payload, **kw,
    )  # fmt: skip


def test_due_items_are_plain_rows_sharing_identical_payloads(session: Session) -> None:
    session.add_all(
        [
            _item(1, dict(RED)),
            _item(2, dict(RED), attempts=2, last_error="503: busy"),
            _item(3, {"add": ["pulsehub_risk_high"], "remove": []}),
            _item(4, dict(RED), next_attempt_at=NOW + dt.timedelta(hours=1)),  # not due yet
            _item(5, dict(RED), status="done"),
        ]
    )
    session.flush()

    due = outbox.due_items(session, NOW, ["helpdesk_ticket_tags"], 10)

    assert all(type(i) is DueItem for i in due)
    assert [(i.key, i.target_id, i.attempts, i.last_error) for i in due] == [
        ("k1", "1", 0, None),
        ("k2", "2", 2, "503: busy"),
        ("k3", "3", 0, None),
    ]
    assert due[0].payload == RED and due[2].payload == {"add": ["pulsehub_risk_high"], "remove": []}
    assert due[0].payload is due[1].payload  # parsed once for the two items that carry it
    assert due[0].system == "zendesk" and due[0].kind == "helpdesk_ticket_tags"


def test_a_failure_is_recorded_from_a_due_item(session: Session) -> None:
    session.add(_item(1, dict(RED), attempts=1))
    session.flush()
    (due,) = outbox.due_items(session, NOW, ["helpdesk_ticket_tags"], 10)

    status = outbox.record_failure(session, due, retriable=True, message="busy", code="503")

    row = session.get(OutboxItem, due.id, populate_existing=True)
    assert status == "pending" and row is not None
    assert (row.attempts, row.last_error) == (2, "503: busy")
