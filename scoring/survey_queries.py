"""The voice-of-the-customer aggregates behind `compute_signals`: survey answers, bounded by
`as_of`.

Each live account's NPS (0-10) and CES (1-7) answers of the `SURVEY_DAYS` before the end of
`as_of` (by `responded_at`): the mean answer and how many there were. The mean, not the NPS
figure (% promoters - % detractors): an account answers a few times a half-year, and a mean
of three answers moves less with one of them than a share of three does. CSAT answers from
surveys are left to the voice report: the scored CSAT is the helpdesk's ratings on tickets
(`support_queries.add_tickets`), so one answer is not counted twice on different scales.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from model.tables import SurveyResponse
from scoring.queries import Signals, end_of, for_accounts

SURVEY_DAYS = 180
KINDS = ("nps", "ces")


def add_surveys(session: Session, as_of: date, ids: Sequence[int] | None, out: Signals) -> None:
    """`nps_survey`/`nps_survey_responses` and `ces`/`ces_responses` of every account in `out`
    that answered in the window; the newest answer's age in `ages` (staleness rules)."""
    end = end_of(as_of)
    r = SurveyResponse
    rows = session.execute(
        select(r.account_id, r.kind, func.avg(r.score), func.count(), func.max(r.responded_at))
        .where(
            for_accounts(r.account_id, ids),
            r.kind.in_(KINDS),
            r.responded_at >= end - timedelta(days=SURVEY_DAYS),
            r.responded_at < end,
        )
        .group_by(r.account_id, r.kind)
    ).all()
    for aid, kind, mean, n, newest in rows:
        s = out.get(aid)
        if s is None:
            continue
        if kind == "nps":
            s.nps_survey, s.nps_survey_responses = float(mean), float(n)
        else:
            s.ces, s.ces_responses = float(mean), float(n)
        age = (end - newest).total_seconds() / 86400
        s.ages["surveys"] = min(age, s.ages.get("surveys", age))
