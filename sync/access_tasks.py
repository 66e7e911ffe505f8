"""Quarterly access-review tasks: one crm task per account with product users and quarter
(outbox key `ops:access_review:a<id>:<quarter>`), listing who has access and what to fix."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from escalation.operations import AccessReviewConfig, quarter_of
from model.account_rows import ops_key_prefix
from model.tables import Account, OutboxItem
from reporting.access_reviews import AccessReview, access_reviews
from sync.outbox import CreateRequest


def access_key(account_id: int, quarter: str) -> str:
    return f"{ops_key_prefix(account_id, 'access_review')}{quarter}"


def access_task_text(
    config: AccessReviewConfig, review: AccessReview, quarter: str
) -> tuple[str, str]:
    """(subject, description): the steps, the counts, then the users to look at."""
    subject = (
        f"Access review {quarter}: {review.account} — {review.with_access} users, "
        f"{review.inactive_admins} inactive admins, {review.left} who left"
    )[:255]
    lines = [f"{i}. {s}" for i, s in enumerate(config.steps, 1)]
    lines += [
        "",
        f"Users with access: {review.with_access} ({review.admins} admins)",
        f"Inactive (no login in {config.inactive_days} days): {review.inactive}",
        f"Contact left the company: {review.left}",
    ]
    flagged = review.flagged
    if flagged:
        lines += ["", "To review:"]
    for u in flagged[:50]:
        why = [w for w, on in (("admin", u.admin), ("inactive", u.inactive),
                                ("left the company", u.contact_left)) if on]  # fmt: skip
        seen = u.last_login_at.date().isoformat() if u.last_login_at else "never"
        lines.append(f"- {u.email} ({u.role or 'no role'}; last login {seen}): {', '.join(why)}")
    if len(flagged) > 50:
        lines.append(f"- ... and {len(flagged) - 50} more (dashboard: /access-reviews)")
    return subject, "\n".join(lines)[:32000]


def access_review_tasks(
    session: Session, now: dt.datetime, config: AccessReviewConfig, system: str
) -> list[CreateRequest]:
    """One task per account with product users and quarter (exactly once: the key stays in
    the outbox whatever became of the write)."""
    quarter = quarter_of(now.date())
    reviews = access_reviews(session, now, config)
    keys = {access_key(r.account_id, quarter): r for r in reviews}
    done = set(session.scalars(select(OutboxItem.key).where(OutboxItem.key.in_(list(keys)))))
    owners = dict(
        session.execute(
            select(Account.id, Account.owner_crm_id).where(
                Account.id.in_([r.account_id for r in reviews])
            )
        ).all()
    )
    crm_ids = dict(
        session.execute(
            select(Account.id, Account.crm_id).where(
                Account.id.in_([r.account_id for r in reviews])
            )
        ).all()
    )
    requests = []
    for key, review in keys.items():
        what_id, owner_id = crm_ids.get(review.account_id), owners.get(review.account_id)
        if key in done or not what_id or not owner_id:
            continue
        subject, description = access_task_text(config, review, quarter)
        payload: dict[str, Any] = {
            "what_id": what_id,
            "owner_id": owner_id,
            "subject": subject,
            "description": description,
            "due_date": (now.date() + dt.timedelta(days=config.due_days)).isoformat(),
            "priority": "High" if review.inactive_admins or review.left else "Normal",
            "_meta": {"account_id": review.account_id, "quarter": quarter},
        }
        requests.append(CreateRequest(key, system, "crm_task", payload))
    return requests
