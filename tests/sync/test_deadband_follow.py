"""Issue 19's second pass: an explanation (health reasons, risk drivers) is written with the
number it explains, never alone; and a status flip whose written score did not change waits
while the exact score sits within the score's band of the cut-off it crossed."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from model.db import transaction
from model.tables import HealthSnapshot
from scoring.health import BAND_CUTOFFS_KEY
from sync import outbox, push
from sync.deadband import HELD, DeadBand, verdicts
from sync.writeback import FIELD_BANDS, plan_chunks, status_reach
from tests.sync.factories import TARGETS, account, linked_org, snapshot, ticket

DRIVERS, REASONS = "renewal_risk_drivers", "health_reasons"
GONE = ("usage down; urgent ticket open", "usage down")  # a written driver went
NEW_SECOND = ("usage down 40%; csat 60%", "usage down 40%; 3 urgent tickets open; csat 60%")


@pytest.mark.parametrize(
    ("changes", "why"),
    [
        ({DRIVERS: GONE}, HELD),  # the risk waits: so does its explanation
        ({DRIVERS: GONE, "renewal_risk": (30.0, 45.0)}, "reason gone"),  # written together
        # the level flipped alone (no number moved as written): the drivers go with it
        ({DRIVERS: GONE, "renewal_risk_level": ("Medium", "High")}, "reason gone"),
        ({DRIVERS: GONE, "renewal_risk": (30.0, 32.0)}, HELD),  # the risk's move waits
        ({DRIVERS: ("", "usage down")}, "appeared"),  # from nothing: written alone
        ({DRIVERS: ("usage down", "")}, "reason gone"),  # to nothing: written alone
        ({REASONS: ("usage down 40%; csat 60%", "usage down 40%")}, HELD),
        ({REASONS: ("usage down 40%; csat 60%", "usage down 40%"), "health_score": (60, 70)},
         "reason gone"),
        ({REASONS: ("usage down 40%; csat 60%", "usage down 40%"), "health_trend": (0, 20)},
         HELD),  # the trend is not what the reasons explain
        # a new second reason under an unchanged top one: held alone, written with its score
        ({REASONS: NEW_SECOND}, HELD),
        ({REASONS: NEW_SECOND, "health_score": (75, 69)}, "with its number"),
    ],
)  # fmt: skip
def test_an_explanation_is_written_with_its_number(changes, why) -> None:
    field = DRIVERS if DRIVERS in changes else REASONS
    items = {field: [t for t in changes[field][1].split("; ") if t]}  # what applies now
    assert verdicts(changes, DeadBand(), FIELD_BANDS, items)[field] == why


def test_an_explanation_whose_number_is_not_written_at_all_is_judged_alone() -> None:
    changes = {DRIVERS: GONE}
    items = {DRIVERS: ["usage down"]}
    mapped = {DRIVERS}  # this connector writes the drivers but not the risk
    assert verdicts(changes, DeadBand(), FIELD_BANDS, items, mapped=mapped)[DRIVERS] != HELD
    off = DeadBand(follow=False)
    assert verdicts(changes, off, FIELD_BANDS, items)[DRIVERS] == "reason gone"


@pytest.mark.parametrize(
    ("reach", "why"),
    [({"health_band": {"Yellow", "Green"}}, HELD), ({"health_band": {"Green"}}, "label alone"),
     (None, "label alone")],
)  # fmt: skip
def test_a_label_alone_waits_while_the_written_one_is_in_reach(reach, why) -> None:
    changes = {"health_band": ("Yellow", "Green")}  # the score rounds to the same integer
    assert verdicts(changes, DeadBand(), FIELD_BANDS, reach=reach)["health_band"] == why


def _snap(score: float, band: str, red: float = 50.0, green: float = 75.0) -> HealthSnapshot:
    cutoffs = {BAND_CUTOFFS_KEY: {"red_below": red, "green_at": green}}
    return snapshot(1, band=band, score=score, signals=cutoffs)


def test_status_reach_spans_the_score_band_under_the_snapshots_cut_offs() -> None:
    fields = TARGETS["account"][0].fields
    band = DeadBand(score=3.0)
    assert status_reach(fields, _snap(75.2, "green"), band) == {"health_band": {"Yellow", "Green"}}
    assert status_reach(fields, _snap(79.0, "green"), band) == {"health_band": {"Green"}}
    # new cut-offs (green from 70): 75.2 is clearly green, yellow is out of reach
    assert status_reach(fields, _snap(75.2, "green", green=70.0), band) == {
        "health_band": {"Green"}
    }
    assert status_reach(fields, _snap(75.2, "red"), band) == {}  # an override: at once
    assert status_reach(fields, snapshot(1, signals={}), band) == {}  # no cut-offs kept
    assert status_reach(fields, _snap(75.2, "green"), DeadBand(score=0.0)) == {}


KINDS = ("crm_account_fields", "helpdesk_org_fields", "helpdesk_ticket_tags")


def _write_all(factory) -> None:
    def ok(items):
        from connectors.records import WriteResult

        return [WriteResult.success(str(i.target_id)) for i in items]

    with transaction(factory) as s:
        outbox.enqueue_chunks(s, plan_chunks(s, TARGETS, band=DeadBand()), sweep=True)
    push.drain(factory, {kind: push.Route(ok, 500) for kind in KINDS})


def _next_day(factory, targets=None, **values) -> list[dict]:
    with transaction(factory) as s:
        s.execute(update(HealthSnapshot).values(**values))
        chunks = plan_chunks(s, targets or {"account": TARGETS["account"]}, band=DeadBand())
        return (
            [w.payload for c in chunks for w in c.writes]
            if targets
            else [w.payload["fields"] for c in chunks for w in c.writes]
        )


def test_the_planner_writes_drivers_with_their_risk_and_holds_a_status_on_its_cut_off(
    factory,
) -> None:
    cutoffs = {BAND_CUTOFFS_KEY: {"red_below": 50.0, "green_at": 75.0}}
    drivers = [{"text": "usage down"}, {"text": "urgent ticket open"}]
    with transaction(factory) as s:
        acc = account(1)
        s.add(acc)
        s.flush()
        s.add(snapshot(acc.id, band="yellow", score=74.6, renewal_risk=0.30,
                       risk_level="medium", risk_drivers=drivers, signals=cutoffs))  # fmt: skip
    _write_all(factory)
    # the score rounds to 75 either way: the flip to green waits on the cut-off
    assert _next_day(factory, score=75.2, band="green") == []
    # the urgent ticket was solved, the risk barely moved: the drivers wait with it
    assert _next_day(factory, risk_drivers=drivers[:1], renewal_risk=0.31) == []
    writes = _next_day(factory, risk_drivers=drivers[:1], renewal_risk=0.42)
    assert writes == [{"renewal_risk": 42.0, DRIVERS: "usage down"}]
    # new cut-offs put 75.2 clearly in green: written at once
    new_cutoffs = {BAND_CUTOFFS_KEY: {"red_below": 50.0, "green_at": 70.0}}
    assert _next_day(factory, renewal_risk=0.30, signals=new_cutoffs) == [{"health_band": "Green"}]


def test_ticket_tags_follow_the_status_and_risk_level_the_organization_shows(factory) -> None:
    """A status the dead-band holds on the organization is not flipped on its tickets; when
    the organization's status is written, the tags follow in the same plan."""
    cutoffs = {BAND_CUTOFFS_KEY: {"red_below": 50.0, "green_at": 75.0}}
    with transaction(factory) as s:
        acc = account(1)
        s.add(acc)
        s.flush()
        s.add_all([linked_org(500, acc.id), ticket(9001, acc.id, org=500)])
        s.add(snapshot(acc.id, band="yellow", score=74.6, renewal_risk=0.30,
                       risk_level="medium", signals=cutoffs))  # fmt: skip
    _write_all(factory)
    # the exact score crosses the cut-off by a hair: the org's status waits, so do the tags
    assert _next_day(factory, TARGETS, score=75.2, band="green") == []
    # the risk level flips with a real move: the org and the ticket are both written
    writes = _next_day(factory, TARGETS, renewal_risk=0.62, risk_level="high")
    fields = [w["fields"] for w in writes if "fields" in w]
    assert [f.get("renewal_risk_level") for f in fields] == ["High", "high"], writes  # SF, ZD
    assert [f.get("health_band") for f in fields] == [None, None], "the status still waits"
    assert [w for w in writes if "fields" not in w] == [
        {"add": ["renewal_risk_high"], "remove": ["renewal_risk_medium"]}
    ], "the tickets say what the organization says: yellow, now high risk"


def test_the_escalation_tickets_pulsehub_opened_get_no_health_tags(factory) -> None:
    """Pulled back into the tickets table, an engineering ticket pulsehub opened under the
    customer's organization is not the customer's ticket: it is not tagged like one."""
    from model.tables import Escalation

    with transaction(factory) as s:
        acc = account(1)
        s.add(acc)
        s.flush()
        s.add_all([linked_org(500, acc.id), ticket(9001, acc.id, org=500),
                   ticket(9002, acc.id, org=500)])  # fmt: skip
        s.add(Escalation(dedup_key="urgent_sla_breach:1", account_id=acc.id, rule="urgent_sla_breach",
                         severity="SEV1", title="t", helpdesk_ticket_id=9002,
                         helpdesk_source="zendesk"))  # fmt: skip
        s.add(snapshot(acc.id))
    with transaction(factory) as s:
        tagged = [w.target_id for c in plan_chunks(s, TARGETS) for w in c.writes
                  if w.kind == "helpdesk_ticket_tags"]  # fmt: skip
    assert tagged == ["9001"]
