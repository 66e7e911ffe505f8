"""The weekly owner digest: built from committed state, queued once per owner and week, pushed
through the outbox (email over SMTP, Slack through the notifier's webhook), retried like any write."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from model.db import transaction
from reporting.digest import OwnerDigest, build_digests, render_text
from sync import push
from sync.outbox import CreateRequest, enqueue_creates
from sync.push import Route

DIGEST_KINDS = ("digest_email", "digest_slack")


def week_ending(today: dt.date) -> dt.date:
    """The digest's week ends on the last Sunday before `today` (a Monday run covers Mon-Sun)."""
    return today - dt.timedelta(days=today.weekday() + 1)


def plan_digests(
    digests: Sequence[OwnerDigest], *, email: bool, slack: bool
) -> list[CreateRequest]:
    """One email (to the owner's address) and/or one Slack message per owner with news; each
    keyed by week and owner, so a rerun for the same week sends nothing twice."""
    out = []
    for d in digests:
        if d.empty:
            continue
        week, text = d.week_ending.isoformat(), render_text(d)
        if email and d.email:
            payload = {"to": d.email, "subject": d.subject, "body": text}
            out.append(
                CreateRequest(
                    f"digest:{week}:email:{d.owner}"[:255], "smtp", "digest_email", payload
                )
            )
        if slack:
            out.append(
                CreateRequest(
                    f"digest:{week}:slack:{d.owner}"[:255], "slack", "digest_slack", {"text": text}
                )
            )
    return out


def digest_job(
    factory: sessionmaker[Session],
    routes: dict[str, Route],
    today: dt.date,
    *,
    owner: str | None = None,
) -> dict[str, Any]:
    """Queue this week's digests for the configured channels, then push them."""
    week = week_ending(today)
    with transaction(factory) as session:
        digests = build_digests(session, week, owner)
        requests = plan_digests(
            digests, email="digest_email" in routes, slack="digest_slack" in routes
        )
        queued = enqueue_creates(session, requests)
    pushed = push.drain(factory, {k: r for k, r in routes.items() if k in DIGEST_KINDS})
    return {
        "week_ending": week.isoformat(),
        "owners": len(digests),
        "with_news": sum(not d.empty for d in digests),
        "queued": queued,
        "pushed": pushed.as_dict(),
    }
