"""The weekly digest per account owner: band changes, new escalations, renewals due.

Read from committed state only, for a week ending on a given day, so a digest re-built for the
same week says the same thing (its delivery key is the owner and the week).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import func, not_, select
from sqlalchemy.orm import Session

from model.lifecycle import churned_on
from model.tables import Account, Escalation, HealthSnapshot

RENEWAL_DAYS = 90
BAND_WORD = {"green": "green", "yellow": "yellow", "red": "red", "insufficient_data": "no score"}


@dataclass
class BandChange:
    account: str
    before: str
    after: str
    score: float | None


@dataclass
class OwnerDigest:
    owner: str
    email: str | None
    week_ending: dt.date
    accounts: int = 0
    band_changes: list[BandChange] = field(default_factory=list)
    new_escalations: list[tuple[str, str, str]] = field(default_factory=list)  # sev, account, title
    renewals: list[tuple[str, dt.date, str]] = field(default_factory=list)  # account, day, band

    @property
    def empty(self) -> bool:
        return not (self.band_changes or self.new_escalations or self.renewals)

    @property
    def subject(self) -> str:
        return f"pulsehub weekly digest for {self.owner}, week ending {self.week_ending:%Y-%m-%d}"


def _bands_on(
    session: Session, ids: list[int], day: dt.date
) -> dict[int, tuple[str, float | None]]:
    """Each account's band and score on its newest snapshot on or before `day`."""
    newest = (
        select(HealthSnapshot.account_id, func.max(HealthSnapshot.as_of).label("d"))
        .where(HealthSnapshot.account_id.in_(ids), HealthSnapshot.as_of <= day)
        .group_by(HealthSnapshot.account_id)
        .subquery()
    )
    rows = session.execute(
        select(HealthSnapshot.account_id, HealthSnapshot.band, HealthSnapshot.score).join(
            newest,
            (newest.c.account_id == HealthSnapshot.account_id)
            & (newest.c.d == HealthSnapshot.as_of),
        )
    )
    return {aid: (band, score) for aid, band, score in rows}


def build_digests(
    session: Session, week_ending: dt.date, owner: str | None = None
) -> list[OwnerDigest]:
    """One digest per owner with live accounts (or just `owner`), owners in name order."""
    stmt = select(Account).where(
        Account.is_deleted.is_(False),
        Account.owner_name.is_not(None),
        not_(churned_on(week_ending)),  # a churned account's book is closed
    )
    if owner:
        stmt = stmt.where(Account.owner_name == owner)
    by_owner: dict[str, list[Account]] = {}
    for acc in session.scalars(stmt):
        by_owner.setdefault(str(acc.owner_name), []).append(acc)
    start = week_ending - dt.timedelta(days=7)
    opened_from = dt.datetime.combine(start + dt.timedelta(days=1), dt.time(), dt.UTC)
    opened_to = dt.datetime.combine(week_ending + dt.timedelta(days=1), dt.time(), dt.UTC)
    out = []
    for name in sorted(by_owner):
        accounts = by_owner[name]
        ids = [a.id for a in accounts]
        names = {a.id: a.name for a in accounts}
        d = OwnerDigest(name, next((a.owner_email for a in accounts if a.owner_email), None),
                        week_ending, accounts=len(accounts))  # fmt: skip
        now, before = _bands_on(session, ids, week_ending), _bands_on(session, ids, start)
        for aid in sorted(now, key=lambda a: names[a]):
            if aid in before and before[aid][0] != now[aid][0]:
                d.band_changes.append(BandChange(names[aid], before[aid][0], *now[aid]))
        for esc in session.scalars(
            select(Escalation)
            .where(Escalation.account_id.in_(ids), Escalation.opened_at >= opened_from,
                   Escalation.opened_at < opened_to)
            .order_by(Escalation.severity, Escalation.opened_at)
        ):  # fmt: skip
            d.new_escalations.append((esc.severity, names[esc.account_id], esc.title))
        horizon = week_ending + dt.timedelta(days=RENEWAL_DAYS)
        for acc in sorted(accounts, key=lambda a: (a.renewal_date or dt.date.max, a.name)):
            if acc.renewal_date and week_ending < acc.renewal_date <= horizon:
                band = now.get(acc.id, ("insufficient_data", None))[0]
                d.renewals.append((acc.name, acc.renewal_date, band))
        out.append(d)
    return out


def render_text(d: OwnerDigest) -> str:
    """The digest as plain text: the email body, and the Slack message."""
    lines = [f"{d.subject}", f"{d.accounts} accounts in your book.", ""]
    lines.append(f"Changed band this week ({len(d.band_changes)}):")
    lines += [
        f"  - {c.account}: {BAND_WORD.get(c.before, c.before)} -> {BAND_WORD.get(c.after, c.after)}"
        + ("" if c.score is None else f" (score {c.score:.0f})")
        for c in d.band_changes
    ] or ["  none"]
    lines.append(f"New escalations ({len(d.new_escalations)}):")
    lines += [f"  - [{sev.upper()}] {title}" for sev, _, title in d.new_escalations] or ["  none"]
    lines.append(f"Renewals in the next {RENEWAL_DAYS} days ({len(d.renewals)}):")
    lines += [
        f"  - {name}: {day:%Y-%m-%d}, {BAND_WORD.get(band, band)}" for name, day, band in d.renewals
    ] or ["  none"]
    return "\n".join(lines)
