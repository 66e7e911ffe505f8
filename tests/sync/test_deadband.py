"""Dead-bands: small daily moves of written-back numbers wait, and a label (band, risk level)
waits with its number; a change of meaning (a number past its band, a value appearing, a
reason that went) is written at once, number and label together."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from model.db import transaction
from model.tables import HealthSnapshot
from sync import outbox, push
from sync.deadband import DeadBand, waiting
from sync.writeback import FIELD_BANDS, plan_chunks
from tests.sync.factories import TARGETS, account, linked_org, snapshot


@pytest.mark.parametrize(
    ("changes", "waits"),
    [
        ({"health_score": (72, 73)}, {"health_score"}),
        ({"health_score": (72, 74)}, set()),
        # on the cut-off: a 1-point move that flips the band waits, band and number together
        ({"health_score": (79, 80), "health_band": ("Yellow", "Green")}, {"health_score", "health_band"}),
        # past the band: both are written
        ({"health_score": (79, 81), "health_band": ("Yellow", "Green")}, set()),
        # a label changing with no number moving (new cut-offs) is written
        ({"health_band": ("Yellow", "Green")}, set()),
        ({"renewal_risk": (30.5, 32.0)}, {"renewal_risk"}),
        ({"renewal_risk": (30.5, 33.0)}, set()),
        ({"renewal_risk": (20.9, 19.5), "renewal_risk_level": ("Medium", "Low")}, {"renewal_risk", "renewal_risk_level"}),
        ({"renewal_risk": (22.6, 20.0), "renewal_risk_level": ("Medium", "Low")}, set()),
        ({"health_trend": (0.4, -1.5)}, {"health_trend"}),
        ({"health_score": (72, None)}, set()),  # appearing/disappearing is meaning
        ({"health_reasons": ("a", "b")}, set()),  # other words
    ],
)  # fmt: skip
def test_what_waits(changes, waits) -> None:
    band = DeadBand(score=1.0, risk=2.0, trend=2.0, risk_share=0.0, follow=False)  # bands alone
    assert waiting(changes, band, FIELD_BANDS) == waits


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
    assert _next_day(factory, score=75.0) == []  # +3 points (the default band): nothing to write
    writes = _next_day(factory, score=76.0, band="green")
    sf = next(w for w in writes if w.kind == "crm_account_fields").payload["fields"]
    assert sf["health_band"] == "Green" and sf["health_score"] == 76
    org = next(w for w in writes if w.kind == "helpdesk_org_fields").payload["fields"]
    assert org["health_band"] == "green" and org["health_score"] == 76
    assert _next_day(factory, score=68.0, band="yellow") != []  # 4 points from what was written


ALONE = DeadBand(follow=False)  # texts judged on their own, as when their number is written


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
    changes = {"renewal_risk_drivers": (old, new)}
    assert waiting(changes, ALONE, FIELD_BANDS) == ({"renewal_risk_drivers"} if waits else set())


CURRENT = [  # an account's reasons now, most severe first; the first three are written
    "active users down 13% vs 90-day baseline",
    "4.43 tickets per seat in 90 days",
    "ARR unchanged in 12 months",
    "1 urgent ticket open",
]


@pytest.mark.parametrize(
    ("written", "waits"),
    [
        # the same reasons in another order: no change of meaning
        ("4.43 tickets per seat in 90 days; active users down 12% vs 90-day baseline; "
         "ARR unchanged in 12 months", True),
        # the third written reason still applies (now fourth) while another took its place
        ("active users down 13% vs 90-day baseline; 4.43 tickets per seat in 90 days; "
         "1 urgent ticket open", True),
        # a written reason no longer applies (the urgent ticket was solved): rewrite
        ("active users down 13% vs 90-day baseline; 4.43 tickets per seat in 90 days; "
         "2 urgent tickets open", False),
        # the top reason now is not among those written: rewrite
        ("4.43 tickets per seat in 90 days; ARR unchanged in 12 months; 1 urgent ticket open",
         False),
        # a new minor reason: what is written is still true and still leads, so it waits
        ("active users down 13% vs 90-day baseline; 4.43 tickets per seat in 90 days", True),
        # more reasons written than apply now: rewrite
        ("active users down 13% vs 90-day baseline; 2 urgent tickets open", False),
        # a written number moved further than 20%: rewrite
        ("active users down 30% vs 90-day baseline; 4.43 tickets per seat in 90 days; "
         "ARR unchanged in 12 months", False),
    ],
)  # fmt: skip
def test_a_reason_list_waits_while_every_written_reason_still_applies(written, waits) -> None:
    shown = "; ".join(CURRENT[:3])
    changes = {"health_reasons": (written, shown)}
    got = waiting(changes, ALONE, FIELD_BANDS, {"health_reasons": CURRENT})
    assert got == ({"health_reasons"} if waits else set())
