"""Quarterly access-review tasks: one crm task per account with product users and quarter
(outbox key `ops:access_review:a<id>:<quarter>`), listing who has access and what to fix.
Accounts are decided a page at a time; with a mark of the same quarter (sync/reviews.py) only
those whose row, workspace links or users changed since it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from escalation.operations import AccessReviewConfig, quarter_of
from model.account_rows import ops_key_prefix
from model.tables import Account, AppUser, ExternalIdentity, OutboxItem
from reporting.access_reviews import AccessReview, access_reviews
from sync.outbox import CreateRequest

CHUNK = 1000  # accounts a page: their users and contacts are what a page holds


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


def access_review_pages(
    session: Session,
    now: dt.datetime,
    config: AccessReviewConfig,
    system: str,
    *,
    since: dt.datetime | None = None,
) -> Iterator[list[CreateRequest]]:
    """One task per account with product users and quarter (exactly once: the key stays in
    the outbox whatever became of the write), a page of accounts at a time: a first pass of a
    quarter makes one for nearly every account (~42,000 at 50,000 accounts, each with its
    list of users), so the caller queues each page before the next is built.

    Whether an account is due reads its row (crm id, owner), its workspace links, its users
    and the outbox; once its key is queued nothing more happens that quarter. So with
    `since` (a pass of the same quarter committed then), only accounts whose row, workspace
    links or users changed after it are looked at; without, every live account, a page at a
    time. Accounts are read `CHUNK` at a time: users and contacts of one page in memory."""
    quarter = quarter_of(now.date())
    pages = _every_account(session) if since is None else _changed(session, since)
    for ids in pages:
        keys = {access_key(i, quarter): i for i in ids}
        done = set(session.scalars(select(OutboxItem.key).where(OutboxItem.key.in_(list(keys)))))
        due = [i for k, i in keys.items() if k not in done]
        if due:
            yield _tasks(session, now, config, system, quarter, due)


def _tasks(
    session: Session,
    now: dt.datetime,
    config: AccessReviewConfig,
    system: str,
    quarter: str,
    account_ids: list[int],
) -> list[CreateRequest]:
    """The tasks of the accounts (of one page) that have users and none this quarter."""
    reviews = access_reviews(session, now, config, account_ids)
    ids = [r.account_id for r in reviews]
    owners = {
        aid: (crm_id, owner)
        for aid, crm_id, owner in session.execute(
            select(Account.id, Account.crm_id, Account.owner_crm_id).where(Account.id.in_(ids))
        ).tuples()
    }
    requests = []
    for review in reviews:
        what_id, owner_id = owners.get(review.account_id, (None, None))
        if not what_id or not owner_id:
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
        requests.append(
            CreateRequest(access_key(review.account_id, quarter), system, "crm_task", payload)
        )
    return requests


def _every_account(session: Session) -> Iterator[list[int]]:
    """Every live account's id, `CHUNK` at a time in id order (keyset paging)."""
    after = 0
    while ids := list(
        session.scalars(
            select(Account.id)
            .where(Account.is_deleted.is_(False), Account.id > after)
            .order_by(Account.id)
            .limit(CHUNK)
        )
    ):
        yield ids
        after = ids[-1]


def _changed(session: Session, since: dt.datetime) -> Iterator[list[int]]:
    """Accounts whose row, workspace links or users changed after `since` (indexed time
    ranges: a few ids), `CHUNK` at a time. A workspace linked elsewhere since is looked at
    under the account it is linked to now: its old account lost users, which queues nothing."""
    spaces = (ExternalIdentity.kind == "workspace") & (
        ExternalIdentity.external_id == AppUser.workspace_id
    )
    out: set[int] = set(session.scalars(select(Account.id).where(Account.updated_at > since)))
    out.update(
        session.scalars(
            select(ExternalIdentity.account_id).where(
                ExternalIdentity.kind == "workspace", ExternalIdentity.updated_at > since
            )
        )
    )
    out.update(
        session.scalars(
            select(ExternalIdentity.account_id)
            .join(AppUser, spaces)
            .where(AppUser.synced_at > since)
        )
    )
    ids = sorted(i for i in out if i is not None)
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]
