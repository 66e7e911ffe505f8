"""How a survey score is read: NPS categories, CES ease, CSAT satisfaction, and negativity.

Scales (the same ranges a survey source is validated against, `connectors.surveys.SCALES`):
  NPS 0-10: promoter 9-10, passive 7-8, detractor 0-6; NPS = % promoters - % detractors (-100..100)
  CES 1-7 (7: "very easy"): the mean, and the share of "easy" answers (5-7)
  CSAT 1-5: satisfied is 4-5; a helpdesk rating "good" is satisfied, "bad" is not;
    CSAT = % satisfied of all ratings

Negativity (0..1) is how unhappy one mention is, used to weight a theme's impact:
  NPS detractor 1, passive 0.5, promoter 0; CES (7 - score) / 6; CSAT (5 - score) / 4;
  a ticket on the theme 0.25 (friction, not yet dissatisfaction), 1 if it was rated bad,
  0.1 if rated good.
"""

from __future__ import annotations

from typing import Any, Literal

Category = Literal["promoter", "passive", "detractor"]
EASY_CES = 5
SATISFIED_CSAT = 4
TICKET_NEGATIVITY = {"bad": 1.0, "good": 0.1, None: 0.25}


def nps_category(score: float) -> Category:
    """Promoter (9-10), passive (7-8) or detractor (0-6)."""
    if score >= 9:
        return "promoter"
    return "passive" if score >= 7 else "detractor"


def nps(promoters: int, passives: int, detractors: int) -> float | None:
    """% promoters - % detractors, None without responses."""
    total = promoters + passives + detractors
    return None if total == 0 else round(100.0 * (promoters - detractors) / total, 1)


def negativity(kind: str, score: float) -> float:
    """How unhappy one survey answer is, 0 (delighted) to 1 (unhappy)."""
    if kind == "nps":
        return {"promoter": 0.0, "passive": 0.5, "detractor": 1.0}[nps_category(score)]
    if kind == "ces":
        return max(0.0, min(1.0, (7 - score) / 6))
    return max(0.0, min(1.0, (5 - score) / 4))


def ticket_negativity(csat: str | None) -> float:
    """How unhappy a ticket on a theme is: by its rating, 0.25 when unrated."""
    return TICKET_NEGATIVITY.get(csat, 0.25)


def negativity_sql(kind: Any, score: Any) -> Any:
    """`negativity` as a SQL expression over a survey row's columns, for aggregates the
    database computes (reporting/voice_themes.py). The same arithmetic in IEEE doubles on
    SQLite and PostgreSQL, so it gives the same float: tests/reporting/test_voice.py compares
    them over every score."""
    from sqlalchemy import case

    def clamped(x: Any) -> Any:
        return case((x < 0, 0.0), (x > 1, 1.0), else_=x)

    return case(
        (kind == "nps", case((score >= 9, 0.0), (score >= 7, 0.5), else_=1.0)),
        (kind == "ces", clamped((7 - score) / 6.0)),
        else_=clamped((5 - score) / 4.0),
    )


def ticket_negativity_sql(csat: Any) -> Any:
    """`ticket_negativity` as a SQL expression over a ticket's `csat` column."""
    from sqlalchemy import case

    return case(
        *((csat == rating, value) for rating, value in TICKET_NEGATIVITY.items() if rating),
        else_=TICKET_NEGATIVITY[None],
    )
