"""Retention figures against hand-computed values on the fixed book in retention_fixture."""

from __future__ import annotations

import datetime as dt

import pytest

from reporting.retention import compute_retention
from reporting.retention_arr import LAPSED, LATE, ON_TIME, Deal, account_history
from reporting.retention_config import Renewals, RetentionConfig
from tests.reporting.retention_fixture import AS_OF, CUSTOMERS, DEALS

approx = pytest.approx


@pytest.fixture(scope="module")
def r():  # type: ignore[no-untyped-def]
    return compute_retention(CUSTOMERS, DEALS, RetentionConfig(), AS_OF, effort={})


def test_trailing_twelve_months_bridge_grr_nrr_and_churn(r) -> None:  # type: ignore[no-untyped-def]
    b = r.trailing.bridge
    # families with ARR on 2025-01-01: A 100k, B 50k, C 60k (180k / 3 years), D 30k + 10k,
    # E 25k, F+G 80k + 20k, I 10k = 385k over 7 logos (H starts later: new, not in the base)
    assert b.start_arr == approx(385_000)
    assert b.start_logos == 7
    # expansion: A +20k (100k -> 120k), D +2k (40k -> co-termed 30k + 12k); the F family's
    # 100k -> 100k is no movement (G's seats moved to F)
    assert b.expansion == approx(22_000)
    # contraction: B 50k -> 40k (10k), C 60k -> 54k (6k) = 16k
    assert b.contraction == approx(16_000)
    # churn: E 25k (lost renewal), I 10k (lapsed) = 35k over 2 logos
    assert b.churn == approx(35_000)
    assert (b.churned_logos, b.new_logos, b.new_arr) == (2, 1, approx(5_000))
    # GRR = (385k - 16k - 35k) / 385k = 334 / 385
    assert b.grr == approx(334 / 385)
    # NRR = (385k + 22k - 16k - 35k) / 385k = 356 / 385
    assert b.nrr == approx(356 / 385)
    assert b.logo_churn == approx(2 / 7)
    assert b.revenue_churn == approx(35 / 385)


def test_last_quarter_bridge(r) -> None:  # type: ignore[no-untyped-def]
    q = r.last_quarter
    assert (q.label, q.start, q.end) == ("2025 Q4", dt.date(2025, 10, 1), dt.date(2026, 1, 1))
    # on 2025-10-01: A 120k, B 40k, C 60k, D 42k, F family 100k, H 5k = 367k over 6 logos;
    # the only movement in Q4 is C's downsell of 6k: GRR = NRR = 361 / 367
    assert (q.bridge.start_arr, q.bridge.start_logos) == (approx(367_000), 6)
    assert q.bridge.contraction == approx(6_000)
    assert q.bridge.grr == approx(361 / 367)
    assert q.bridge.nrr == approx(361 / 367)
    assert q.renewals.decided == 0 and q.renewals.rate is None  # nothing fell due in Q4


def test_renewal_rate_on_time_late_lost_lapsed_and_moved(r) -> None:  # type: ignore[no-untyped-def]
    c = r.trailing.renewals
    # due in 2025: A 01-15 on time, F 02-01 on time, D 05-01 on time (two co-termed deals,
    # one renewal), B 03-01 won 03-20 (late, inside the 30-day grace), E 09-01 lost,
    # I 06-01 lapsed (no renewal by 07-01); G 02-01 lost while its family kept the ARR: moved
    assert (c.on_time, c.late, c.lost, c.lapsed, c.moved, c.pending) == (3, 1, 1, 1, 1, 0)
    # renewal rate = (3 + 1) / 6 decided; on time 3 / 6
    assert c.rate == approx(4 / 6)
    assert c.on_time_rate == approx(3 / 6)
    # ARR due is each contract's ARR before its renewal: A 100k + F 80k (G's 20k moved, not
    # counted) + D 40k + B 50k + E 25k + I 10k = 305k; renewed A + F + D + B = 270k
    assert (c.arr_due, c.arr_renewed) == (approx(305_000), approx(270_000))


def test_cohort_table(r) -> None:  # type: ignore[no-untyped-def]
    rows = {row.cohort: row for row in r.cohorts}
    assert list(rows) == ["2022 Q2", "2024 Q1", "2024 Q2", "2024 Q3", "2025 Q2"]
    q1 = rows["2024 Q1"]  # A 100k, F family 100k, B 50k at the end of 2024 Q1
    assert (q1.logos, q1.start_arr) == (3, approx(250_000))
    # quarter ends 2024-04-01 .. 2026-01-01: flat, then B's late renewal at 40k (240/250) in
    # 2025 Q1, then A's expansion (260/250) from 2025 Q2; every logo kept
    assert q1.revenue_retention == approx([1, 1, 1, 1, 0.96, 1.04, 1.04, 1.04])
    assert q1.logo_retention == approx([1.0] * 8)
    q2 = rows["2024 Q2"]  # D 30k and I 10k at the end of 2024 Q2
    assert (q2.logos, q2.start_arr) == (2, approx(40_000))
    # D's expansion to 40k (50/40) from 2024 Q4 end, D's co-termed 42k (52/40) by 2025-07-01
    # (I lapses on 07-01, so it still counts that morning), then I gone (42/40, half the logos)
    assert q2.revenue_retention == approx([1, 1, 1.25, 1.25, 1.30, 1.05, 1.05])
    assert q2.logo_retention == approx([1, 1, 1, 1, 1, 0.5, 0.5])
    q3 = rows["2024 Q3"]  # E alone, lost on 2025-09-01
    assert q3.logo_retention == approx([1, 1, 1, 1, 0, 0])
    assert rows["2025 Q2"].revenue_retention == approx([1, 1, 1])  # H, three quarter ends
    c = rows["2022 Q2"]  # C: multi-year renewal at the same 60k, then the 6k downsell
    assert c.revenue_retention[:-1] == approx([1.0] * (len(c.revenue_retention) - 1))
    assert c.revenue_retention[-1] == approx(0.9)


def test_breakdowns_by_segment_tier_csm_and_cohort(r) -> None:  # type: ignore[no-untyped-def]
    seg = {g.name: g for g in r.by["segment"]}
    # Mid-Market: B 50k -> 40k, I 10k -> lapsed: GRR = NRR = (60 - 10 - 10) / 60
    assert seg["Mid-Market"].bridge.grr == approx(40 / 60)
    assert seg["Mid-Market"].renewals.rate == approx(1 / 2)  # B late (won), I lapsed
    # Enterprise: A 100, C 60, D 40, F 100 = 300k; +20k +2k, -6k: NRR 316/300, GRR 294/300
    assert seg["Enterprise"].bridge.nrr == approx(316 / 300)
    assert seg["Enterprise"].bridge.grr == approx(294 / 300)
    # per quarter, Mid-Market 2025 Q1: B 50k + I 10k; B renewed late at 40k: 50 / 60
    mm = {p.label: p for p in seg["Mid-Market"].quarters}
    assert mm["2025 Q1"].bridge.grr == approx(50 / 60) == mm["2025 Q1"].bridge.nrr
    assert mm["2025 Q1"].renewals.late == 1
    # 2025 Q3: B 40k + I 10k (still there on the morning of 07-01, when it lapses): 40 / 50
    assert mm["2025 Q3"].bridge.grr == approx(40 / 50)
    assert mm["2025 Q3"].renewals.lapsed == 0  # I was due 06-01: it lapsed in Q2's count
    assert mm["2025 Q2"].renewals.lapsed == 1
    # SMB: E churned (25k), H is new
    assert seg["SMB"].bridge.logo_churn == approx(1.0)
    csm = {g.name: g for g in r.by["csm"]}
    assert csm["Ana"].bridge.start_arr == approx(300_000)  # the family counts under its parent
    tier = {g.name: g for g in r.by["tier"]}
    assert "Strategic" in tier and tier["Strategic"].bridge.start_arr == approx(100_000)
    cohort = {g.name: g for g in r.by["cohort"]}
    assert cohort["2024 Q3"].bridge.churn == approx(25_000)


def test_multi_year_deal_is_annualized_and_due_after_its_term() -> None:
    line, due = account_history(
        1, [Deal(1, "New Business", 300_000, dt.date(2023, 1, 1), True, 36)], Renewals(),
        dt.date(2025, 12, 31),
    )  # fmt: skip
    assert line.before(dt.date(2024, 1, 1)) == 100_000  # 300k over 3 years
    assert due == []  # due 2026-01-01: not yet


def test_late_beyond_grace_is_a_lapse_then_a_win_back() -> None:
    deals = [
        Deal(1, "New Business", 10_000, dt.date(2024, 1, 1), True),
        Deal(1, "Renewal", 12_000, dt.date(2025, 3, 1), True),  # 59 days after the due date
    ]
    line, due = account_history(1, deals, Renewals(grace_days=30), dt.date(2025, 12, 31))
    assert [(d.due, d.outcome) for d in due] == [(dt.date(2025, 1, 1), LAPSED)]
    assert line.before(dt.date(2025, 2, 15)) == 0  # lapsed on 2025-01-31
    assert line.before(dt.date(2025, 3, 2)) == 12_000  # won back: new ARR
    line, due = account_history(1, deals, Renewals(grace_days=60), dt.date(2025, 12, 31))
    assert [(d.due, d.outcome) for d in due] == [(dt.date(2025, 1, 1), LATE)]


def test_renewal_closed_early_is_on_time_and_keeps_the_contract_calendar() -> None:
    deals = [
        Deal(1, "New Business", 10_000, dt.date(2024, 1, 1), True),
        Deal(1, "Renewal", 10_000, dt.date(2024, 12, 10), True),
        Deal(1, "Renewal", 11_000, dt.date(2026, 1, 1), True),
    ]
    _, due = account_history(1, deals, Renewals(), dt.date(2026, 6, 30))
    assert [(d.due, d.outcome) for d in due] == [
        (dt.date(2025, 1, 1), ON_TIME),
        (dt.date(2026, 1, 1), ON_TIME),
    ]


def test_cost_to_serve_prices_effort_with_the_configured_rates() -> None:
    from reporting.cost_to_serve import Effort, price
    from reporting.retention_config import CostRates

    row = price("SMB", Effort(10, 30, 0.0, 2, 4), 5, 116_500.0, CostRates())
    # support: 10 tickets x 12 min + 30 replies x 6 min = 300 min = 5 h x $45 = $225
    # escalations: 2 x $400 = $800; CSM: 4 touches x 30 min = 2 h x $70 = $140
    assert (row.handle_hours, row.support_cost, row.escalation_cost, row.csm_cost) == (
        5.0, 225.0, 800.0, 140.0,
    )  # fmt: skip
    assert row.total == approx(1_165.0)
    assert row.per_customer == approx(233.0)  # 1165 / 5
    assert row.per_arr_dollar == approx(0.01)  # 1165 / 116,500
