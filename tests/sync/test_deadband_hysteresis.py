"""The write-back rules against the daily write wave (issue 19): the renewal risk's relative
dead-band, and hysteresis on the risk drivers' listing threshold. Each rule holds only noise:
a new risk level, a driver that clearly went or clearly arrived, a new clear top driver are
written at once."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import update

from model.db import transaction
from model.tables import HealthSnapshot
from scoring.risk_model import MIN_DRIVER_LOG_ODDS, NEAR_DRIVERS, FittedRisk
from sync import outbox, push
from sync.deadband import HELD, DeadBand, ranked_items, verdicts, waiting
from sync.writeback import FIELD_BANDS, plan_chunks
from tests.sync.factories import TARGETS, account, snapshot

RISK = "renewal_risk"
LEVEL = "renewal_risk_level"
DRIVERS = "renewal_risk_drivers"


@pytest.mark.parametrize(
    ("changes", "waits"),
    [
        # 30% -> 40%: within 35% of the risk written, same level: noise
        ({RISK: (30.0, 40.0)}, {RISK}),
        ({RISK: (30.0, 41.0)}, set()),  # more than 35% of it: written
        # a small risk keeps the absolute band: 5% -> 9.9% waits, 5% -> 10.5% does not
        ({RISK: (5.0, 9.9)}, {RISK}),
        ({RISK: (5.0, 10.5)}, set()),
        # within 35%, but the level changed: only the absolute 5 points hold, so written
        ({RISK: (30.0, 40.0), LEVEL: ("Medium", "High")}, set()),
        # the level changed within 5 points: the label waits with its number, as before
        ({RISK: (34.0, 38.0), LEVEL: ("Medium", "High")}, {RISK, LEVEL}),
        ({RISK: (30.0, None)}, set()),  # a risk that went is meaning
    ],
)  # fmt: skip
def test_the_risk_waits_within_a_share_of_itself_unless_its_level_changes(changes, waits) -> None:
    assert waiting(changes, DeadBand(), FIELD_BANDS) == waits


def test_the_relative_band_is_off_at_zero() -> None:
    band = DeadBand(risk_share=0.0)
    changes: dict[str, tuple[Any, Any]] = {RISK: (30.0, 36.0)}  # decoded written values
    assert waiting(changes, band, FIELD_BANDS) == set()


def _driver(text: str, push: float) -> dict[str, object]:
    return {"driver": text.split()[0], "contribution": push, "text": text}


def test_ranked_items_keep_near_drivers_and_mark_the_weak_ones() -> None:
    listed = [_driver("usage down", 0.6), _driver("csat low", 0.3)]
    near = [_driver("tickets many", 0.2), _driver("logins few", 0.12)]
    items, weak = ranked_items(listed, near, threshold=0.25, margin=0.1)
    assert items == ["usage down", "csat low", "tickets many"]  # 0.12 is clearly under
    assert weak == {"csat low", "tickets many"}  # within 0.1 of the threshold either side


ALONE = DeadBand(follow=False)  # drivers judged on their own, as when their risk is written


def _verdict(written: str, listed: list, near: list, band: DeadBand = ALONE) -> str:
    new = "; ".join(str(d["text"]) for d in listed[:3])
    items, weak = ranked_items(listed, near, MIN_DRIVER_LOG_ODDS, band.driver)
    changes = {DRIVERS: (written, new)}
    return verdicts(changes, band, FIELD_BANDS, {DRIVERS: items}, {DRIVERS: weak})[DRIVERS]


A, B, C, D = "usage down", "csat low", "tickets many", "urgent ticket open"


@pytest.mark.parametrize(
    ("written", "listed", "near", "why"),
    [
        # C slipped just under the threshold (0.25 -> 0.22): still written
        (f"{A}; {B}; {C}", [_driver(A, 0.9), _driver(B, 0.5)], [_driver(C, 0.22)], HELD),
        # C fell clearly under (0.12 < 0.25 - 0.1): it no longer applies
        (f"{A}; {B}; {C}", [_driver(A, 0.9), _driver(B, 0.5)], [_driver(C, 0.12)], "reason gone"),
        # C went entirely (its feature moved to the healthy side)
        (f"{A}; {B}; {C}", [_driver(A, 0.9), _driver(B, 0.5)], [], "reason gone"),
        # a new driver barely over the threshold ranks first: not a clear new top, waits
        (f"{A}", [_driver(D, 0.3), _driver(A, 0.28)], [], HELD),
        # a new driver clearly over the threshold ranks first: a new top driver, written
        (f"{A}", [_driver(D, 0.6), _driver(A, 0.3)], [], "new top reason"),
        # none was written, one barely crossed the threshold: waits
        ("", [_driver(D, 0.27)], [], HELD),
        # none was written, one clearly crossed it: written
        ("", [_driver(D, 0.4)], [], "appeared"),
        # every listed driver dropped just under the threshold: what is written still holds
        (f"{A}", [], [_driver(A, 0.2)], HELD),
        # ... and when it dropped clearly under, the empty list is written
        (f"{A}", [], [], "reason gone"),
    ],
)  # fmt: skip
def test_a_written_driver_stays_until_clearly_under_and_a_new_one_must_clear_it(
    written, listed, near, why
) -> None:
    assert _verdict(written, listed, near) == why


def test_driver_hysteresis_off_at_zero_margin() -> None:
    band = DeadBand(driver=0.0, follow=False)
    written = f"{A}; {B}; {C}"
    listed = [_driver(A, 0.9), _driver(B, 0.5)]
    assert _verdict(written, listed, [_driver(C, 0.24)], band) == "reason gone"
    assert _verdict("", [_driver(D, 0.26)], [], band) == "appeared"


def test_fitted_model_lists_drivers_over_the_threshold_and_keeps_the_near_ones_apart() -> None:
    model = FittedRisk(
        numeric=["x", "y", "z"], categorical={}, medians={}, indicators=[],
        columns=["x", "y", "z"], means=[0.0, 0.0, 0.0], scales=[1.0, 1.0, 1.0],
        coef=[1.0, 1.0, 1.0], intercept=0.0,
    )  # fmt: skip
    listed, near = model.drivers_and_near({"x": 0.5, "y": 0.2, "z": 0.05})
    assert [d["driver"] for d in listed] == ["x"]
    assert [d["driver"] for d in near] == ["y"]  # 0.05 is too far under to keep
    assert model.drivers({"x": 0.5, "y": 0.2, "z": 0.05}) == listed  # what is shown: unchanged


def _write_all(factory) -> None:
    def ok(items):
        from connectors.records import WriteResult

        return [WriteResult.success(str(i.target_id)) for i in items]

    with transaction(factory) as s:
        outbox.enqueue_chunks(s, plan_chunks(s, TARGETS, band=ALONE), sweep=True)
    push.drain(factory, {"crm_account_fields": push.Route(ok, 500)})


def _next_day(factory, **values) -> list:
    with transaction(factory) as s:
        s.execute(update(HealthSnapshot).values(**values))
        return [
            w for c in plan_chunks(s, {"account": TARGETS["account"]}, band=ALONE) for w in c.writes
        ]


def test_the_planner_keeps_a_driver_that_slipped_just_under_and_writes_one_that_went(
    factory,
) -> None:
    drivers = [_driver(A, 0.9), _driver(C, 0.27)]
    with transaction(factory) as s:
        acc = account(1)
        s.add(acc)
        s.flush()
        s.add(snapshot(acc.id, risk_drivers=drivers, signals={}))
    _write_all(factory)
    slipped = {NEAR_DRIVERS: [_driver(C, 0.2)]}
    assert _next_day(factory, risk_drivers=drivers[:1], signals=slipped) == []
    writes = _next_day(factory, risk_drivers=drivers[:1], signals={})  # C went
    assert [w.payload["fields"] for w in writes] == [{DRIVERS: A}]


def test_the_settings_defaults_are_the_planners() -> None:
    from pulsehub.settings import DeadBandSettings

    assert DeadBand(**DeadBandSettings().model_dump()) == DeadBand()


def test_the_reasons_just_past_the_listed_ones_are_kept_apart_not_shown() -> None:
    from scoring.health import NEAR_REASONS_KEY, score_health
    from tests.scoring.test_health import _card, healthy_signals

    sig = healthy_signals(usage_change_90d=-0.42, csat=0.7, open_urgent_tickets=1.0)
    everything = score_health(sig, _card(max_reasons=20), [])
    two = score_health(sig, _card(max_reasons=2), [])
    assert [r.text for r in two.reasons] == [r.text for r in everything.reasons[:2]]
    assert two.signals[NEAR_REASONS_KEY] == [r.text for r in everything.reasons[2:5]]


def test_a_written_reason_that_slipped_a_few_ranks_still_applies_one_that_went_does_not(
    factory,
) -> None:
    from scoring.health import NEAR_REASONS_KEY

    reasons = [{"text": t} for t in ("usage down 40%", "csat 70% good", "1 urgent ticket open")]
    with transaction(factory) as s:
        acc = account(1)
        s.add(acc)
        s.flush()
        s.add(snapshot(acc.id, reasons=reasons, signals={}))
    _write_all(factory)
    # two new reasons above the urgent ticket: it is now 6th, past the listed five
    newer = [reasons[0], {"text": "2 champions"}, {"text": "5 features"}, {"text": "a"},
             {"text": "b"}]  # fmt: skip
    slipped = {NEAR_REASONS_KEY: ["csat 70% good", "1 urgent ticket open"]}
    assert _next_day(factory, reasons=newer, signals=slipped) == []
    writes = _next_day(factory, reasons=newer, signals={})  # the urgent ticket was solved
    assert [w.payload["fields"] for w in writes] == [
        {"health_reasons": "usage down 40%; 2 champions; 5 features"}
    ]


def test_a_list_never_written_is_written_even_when_its_drivers_are_weak() -> None:
    items, weak = ranked_items([_driver(D, 0.27)], [], MIN_DRIVER_LOG_ODDS, 0.1)
    changes = {DRIVERS: (None, D)}  # the first write: nothing stands in the crm
    got = verdicts(changes, DeadBand(), FIELD_BANDS, {DRIVERS: items}, {DRIVERS: weak})
    assert got[DRIVERS] == "appeared"
