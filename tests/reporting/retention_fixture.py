"""A small fixed book of accounts and deals whose retention figures are computed by hand.

as_of 2025-12-31: the trailing twelve months are [2025-01-01, 2026-01-01), the last complete
quarter 2025 Q4 = [2025-10-01, 2026-01-01). Grace window 30 days, default term 12 months.

  A (1, Enterprise, Ana)   NB 2024-01-15 100k; renewal won on time 2025-01-15 100k;
                           mid-term expansion 2025-06-01 +20k                      -> 120k
  B (2, Mid-Market, Ben)   NB 2024-03-01 50k; renewal due 2025-03-01 won LATE 2025-03-20
                           (19 days, inside the 30-day grace) at 40k                 -> 40k
  C (3, Enterprise, Ana)   NB 2022-04-01 60k; MULTI-YEAR renewal 2023-04-01 of 180k for
                           36 months = 60k ARR (due 2026-04-01); downsell 2025-11-15 -6k -> 54k
  D (4, Enterprise, Ana)   NB 2024-05-01 30k; mid-term expansion 2024-11-01 +10k (40k);
                           CO-TERMED renewal 2025-05-01: base 30k + add-on 12k        -> 42k
  E (5, SMB, Ben)          NB 2024-09-01 25k; renewal lost 2025-09-01               -> 0
  F (6, Enterprise, Ana)   parent; NB 2024-02-01 80k; renewal won 2025-02-01 100k
  G (7, Enterprise, Ana)   child of F; NB 2024-02-01 20k; renewal lost 2025-02-01: its seats
                           moved into F's contract (family 100k -> 100k)            -> 0
  H (8, SMB, Ben)          NB 2025-04-10 5k (a new logo in the window)               -> 5k
  I (9, Mid-Market, Ben)   NB 2024-06-01 10k; no renewal: due 2025-06-01, lapsed after the
                           grace window on 2025-07-01                                 -> 0
"""

from __future__ import annotations

import datetime as dt

from reporting.retention_arr import Customer, Deal

D = dt.date
AS_OF = D(2025, 12, 31)

CUSTOMERS = [
    Customer(1, None, "Enterprise", "Tier 1", "Ana", D(2024, 1, 15), 120_000.0),
    Customer(2, None, "Mid-Market", "Tier 2", "Ben", D(2024, 3, 1), 40_000.0),
    Customer(3, None, "Enterprise", "Tier 1", "Ana", D(2022, 4, 1), 54_000.0),
    Customer(4, None, "Enterprise", "Tier 1", "Ana", D(2024, 5, 1), 42_000.0),
    Customer(5, None, "SMB", "Tier 3", "Ben", D(2024, 9, 1), 0.0),
    Customer(6, None, "Enterprise", "Strategic", "Ana", D(2024, 2, 1), 100_000.0),
    Customer(7, 6, "Enterprise", "Tier 1", "Ana", D(2024, 2, 1), 0.0),
    Customer(8, None, "SMB", "Tier 3", "Ben", D(2025, 4, 10), 5_000.0),
    Customer(9, None, "Mid-Market", "Tier 2", "Ben", D(2024, 6, 1), 10_000.0),
]

NB, REN, EXP, DOWN = "New Business", "Renewal", "Expansion", "Downsell"
DEALS = [
    Deal(1, NB, 100_000, D(2024, 1, 15), True),
    Deal(1, REN, 100_000, D(2025, 1, 15), True),
    Deal(1, EXP, 20_000, D(2025, 6, 1), True),
    Deal(2, NB, 50_000, D(2024, 3, 1), True),
    Deal(2, REN, 40_000, D(2025, 3, 20), True),
    Deal(3, NB, 60_000, D(2022, 4, 1), True),
    Deal(3, REN, 180_000, D(2023, 4, 1), True, term_months=36),
    Deal(3, DOWN, 6_000, D(2025, 11, 15), True),
    Deal(4, NB, 30_000, D(2024, 5, 1), True),
    Deal(4, EXP, 10_000, D(2024, 11, 1), True),
    Deal(4, REN, 30_000, D(2025, 5, 1), True),
    Deal(4, REN, 12_000, D(2025, 5, 1), True),
    Deal(5, NB, 25_000, D(2024, 9, 1), True),
    Deal(5, REN, 25_000, D(2025, 9, 1), False),
    Deal(6, NB, 80_000, D(2024, 2, 1), True),
    Deal(6, REN, 100_000, D(2025, 2, 1), True),
    Deal(7, NB, 20_000, D(2024, 2, 1), True),
    Deal(7, REN, 20_000, D(2025, 2, 1), False),
    Deal(8, NB, 5_000, D(2025, 4, 10), True),
    Deal(9, NB, 10_000, D(2024, 6, 1), True),
    Deal(5, NB, 9_000, D(2025, 10, 1), False),  # a lost new-business deal changes nothing
]
