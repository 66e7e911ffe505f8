"""The severity table: points per factor and the Sev1..Sev4 cut-offs."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from escalation.clusters import TicketFact
from escalation.facts import AccountFacts
from escalation.severity import assess_severity, severity_for
from tests.escalation.factories import NOW

AS_OF = date(2026, 6, 30)


def facts(**kw) -> AccountFacts:
    return AccountFacts(account_id=1, name="Acme", as_of=AS_OF, **kw)


def urgent(n: int) -> list[TicketFact]:
    return [
        TicketFact(helpdesk_id=i, status="open", priority="urgent", created_at=NOW)
        for i in range(n)
    ]


@pytest.mark.parametrize(
    ("kw", "rule", "expected", "points"),
    [
        # small account, nothing at stake: trigger weight only
        ({"arr": 10_000}, "band_yellow", "sev4", 0),
        ({"arr": 10_000}, "band_red", "sev4", 2),
        # mid ARR + renewal in 60 days + red: 1 + 2 + 2 = 5
        ({"arr": 60_000, "renewal_date": AS_OF + timedelta(days=60)}, "band_red", "sev2", 5),
        # renewal amount counts as ARR at stake when larger: 2 + 3 (<=30d) + 1 = 6
        (
            {"arr": 20_000, "renewal_amount": 150_000, "renewal_date": AS_OF + timedelta(days=20)},
            "renewal_review",
            "sev2",
            6,
        ),
        # strategic, 600k, renewal in 10 days, urgent ticket with exec contact, red: 3+3+2+1+1+2
        (
            {
                "arr": 600_000,
                "tier": "Strategic",
                "renewal_date": AS_OF + timedelta(days=10),
                "open_tickets": urgent(1),
                "executive_contacts": 1,
            },
            "band_red",
            "sev1",
            12,
        ),
        # 100k enterprise, renewal in 200 days (no points): 2 + 1 + weight 1 = 4
        (
            {"arr": 100_000, "tier": "enterprise", "renewal_date": AS_OF + timedelta(days=200)},
            "score_drop",
            "sev3",
            4,
        ),
        # renewal in the past gives no proximity points
        ({"arr": 30_000, "renewal_date": AS_OF - timedelta(days=5)}, "band_yellow", "sev4", 1),
    ],
)
def test_severity_table(config, kw, rule, expected, points):
    result = assess_severity(facts(**kw), config, rule=rule)
    assert (result.severity, result.points) == (expected, points)
    assert sum(r.points for r in result.rows) == points
    assert len(result.reasons) == sum(1 for r in result.rows if r.points)


def test_rows_name_every_factor_with_its_table(config):
    result = assess_severity(facts(arr=250_000), config, rule="band_red")
    factors = [r.factor for r in result.rows]
    assert factors == [
        "ARR at stake",
        "renewal proximity",
        "strategic tier",
        "urgent tickets open",
        "urgent tickets past SLA",
        "executive involved",
        "trigger",
    ]
    assert result.rows[0].value == "$250,000"
    assert result.rows[0].rule.startswith(">=$500,000: 3")
    assert "ARR at stake: $250,000 (+2)" in result.reasons


def test_sla_breaches_and_explicit_executive_add_points(config):
    base = assess_severity(facts(arr=10_000), config, rule="urgent_sla_breach")
    more = assess_severity(
        facts(arr=10_000, open_tickets=urgent(2)),
        config,
        rule="urgent_sla_breach",
        sla_breaches=2,
        executive_involved=True,
    )
    assert more.points - base.points == 3


@pytest.mark.parametrize(
    ("points", "severity"), [(0, "sev4"), (2, "sev4"), (3, "sev3"), (5, "sev2"), (8, "sev1")]
)
def test_thresholds(config, points, severity):
    assert severity_for(points, config.severity) == severity
