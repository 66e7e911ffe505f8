"""Dead-bands: small daily moves of written-back numbers wait; a change of meaning (a band or a
risk level, a value appearing) is written at once, number and label together."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from model.db import transaction
from model.tables import HealthSnapshot
from sync import outbox, push
from sync.deadband import DeadBand, held
from sync.writeback import FIELD_BANDS, plan_chunks
from tests.sync.factories import TARGETS, account, linked_org, snapshot


@pytest.mark.parametrize(
    ("field", "new", "old", "labels", "waits"),
    [
        ("health_score", "73", "72", set(), True),
        ("health_score", "74", "72", set(), False),
        ("health_score", "73", "72", {"health_band"}, False),  # label moves with it
        ("renewal_risk", "32.0", "30.5", set(), True),
        ("renewal_risk", "33.0", "30.5", set(), False),
        ("renewal_risk", "31", "30", {"renewal_risk_level"}, False),
        ("health_trend", "-1.5", "0.4", set(), True),
        ("health_score", None, "72", set(), False),  # appearing/disappearing is meaning
        ("health_reasons", "b", "a", set(), False),  # text is not a number
    ],
)
def test_what_waits(field, new, old, labels, waits) -> None:
    assert held(field, new, old, labels, DeadBand(), FIELD_BANDS) is waits


def _write_all(factory) -> None:
    def ok(items):
        from connectors.records import WriteResult

        return [WriteResult.success(str(i.target_id)) for i in items]

    with transaction(factory) as s:
        outbox.enqueue_chunks(s, plan_chunks(s, TARGETS, band=DeadBand()), sweep=True)
    push.drain(
        factory,
        {
            k: push.Route(ok, 500)
            for k in ("crm_account_fields", "helpdesk_org_fields", "helpdesk_ticket_tags")
        },
    )


def _next_day(factory, **values) -> list:
    with transaction(factory) as s:
        s.execute(update(HealthSnapshot).values(**values))  # the day's new scores
        return [w for c in plan_chunks(s, TARGETS, band=DeadBand()) for w in c.writes]


def test_a_small_daily_drift_writes_nothing_and_a_band_change_writes_number_and_label(
    factory,
) -> None:
    with transaction(factory) as s:
        acc = account(1)
        s.add(acc)
        s.flush()
        s.add_all([snapshot(acc.id, band="yellow", score=72), linked_org(500, acc.id)])
    _write_all(factory)
    assert _next_day(factory, score=73.0) == []  # +1 point: nothing to write
    writes = _next_day(factory, score=76.0, band="green")
    sf = next(w for w in writes if w.kind == "crm_account_fields").payload["fields"]
    assert sf["health_band"] == "Green" and sf["health_score"] == 76
    org = next(w for w in writes if w.kind == "helpdesk_org_fields").payload["fields"]
    assert org["health_band"] == "green" and org["health_score"] == 76
    assert _next_day(factory, score=74.0, band="yellow") != []  # back: label and number again


@pytest.mark.parametrize(
    ("new", "old", "waits"),
    [
        (
            "renewal in 44 days; health down 16 points",
            "renewal in 45 days; health down 11 points",
            False,
        ),
        (
            "renewal in 44 days; active users down 43%",
            "renewal in 45 days; active users down 42%",
            True,
        ),
        ("renewal in 30 days", "renewal in 45 days", False),  # moved by a third
        ("2 urgent tickets open", "3 urgent tickets open", False),
        ("1 urgent ticket open", "2 urgent tickets open", False),  # the words differ
        ("active users down 42%", "active users down 42%; CSAT 60% good", False),  # a reason went
    ],
)
def test_reason_texts_wait_while_their_words_hold_and_numbers_barely_move(new, old, waits) -> None:
    assert held("renewal_risk_drivers", new, old, set(), DeadBand(), FIELD_BANDS) is waits
