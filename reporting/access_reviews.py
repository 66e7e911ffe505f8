"""Access reviews: per account, who has access to the product, who is inactive, who is an
admin, and whose crm contact has left the company.

A user belongs to the account its workspace is linked to. "Has access" means an active,
not deleted user; deactivated users are listed but not flagged. A user is matched to a crm
contact of the same account by email; the contact has left when it is deleted in the crm or
its title or role carries a departure marker ("left company", ...).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from escalation.operations import AccessReviewConfig
from model.tables import Account, AppUser, Contact, ExternalIdentity

CSV_COLUMNS = (
    "account_id", "account", "email", "name", "role", "status", "last_login_at",
    "admin", "inactive", "contact_left",
)  # fmt: skip


@dataclass(frozen=True)
class AccessUser:
    email: str | None
    name: str | None
    role: str | None
    status: str | None
    last_login_at: dt.datetime | None
    admin: bool
    active: bool
    inactive: bool  # active, but no login in `inactive_days` (or never)
    contact_left: bool

    @property
    def flagged(self) -> bool:
        return self.active and (self.inactive or self.contact_left)


@dataclass
class AccessReview:
    account_id: int
    account: str
    owner: str | None
    users: list[AccessUser] = field(default_factory=list)

    @property
    def with_access(self) -> int:
        return sum(u.active for u in self.users)

    @property
    def admins(self) -> int:
        return sum(u.active and u.admin for u in self.users)

    @property
    def inactive(self) -> int:
        return sum(u.active and u.inactive for u in self.users)

    @property
    def inactive_admins(self) -> int:
        return sum(u.active and u.inactive and u.admin for u in self.users)

    @property
    def left(self) -> int:
        return sum(u.active and u.contact_left for u in self.users)

    @property
    def flagged(self) -> list[AccessUser]:
        return [u for u in self.users if u.flagged]


def _departed(contact: Contact, markers: Iterable[str]) -> bool:
    text = f"{contact.title or ''} {contact.role or ''}".lower()
    return contact.is_deleted or any(m.lower() in text for m in markers)


def access_reviews(
    session: Session,
    now: dt.datetime,
    config: AccessReviewConfig,
    account_ids: list[int] | None = None,
) -> list[AccessReview]:
    """One review per account that has product users, by account name."""
    query = (
        select(AppUser, Account.id, Account.name, Account.owner_name)
        .join(
            ExternalIdentity,
            (ExternalIdentity.kind == "workspace")
            & (ExternalIdentity.external_id == AppUser.workspace_id),
        )
        .join(Account, Account.id == ExternalIdentity.account_id)
        .where(AppUser.is_deleted.is_(False), Account.is_deleted.is_(False))
        .order_by(Account.name, AppUser.email)
    )
    if account_ids is not None:
        query = query.where(Account.id.in_(account_ids))
    rows = session.execute(query).all()
    ids = sorted({r[1] for r in rows})
    left: dict[int, set[str]] = defaultdict(set)
    for start in range(0, len(ids), 500):
        for c in session.scalars(
            select(Contact).where(Contact.account_id.in_(ids[start : start + 500]))
        ):
            if c.email and c.account_id is not None and _departed(c, config.departure_markers):
                left[c.account_id].add(c.email.strip().lower())
    cutoff = now - dt.timedelta(days=config.inactive_days)
    admin_roles = {r.lower() for r in config.admin_roles}
    reviews: dict[int, AccessReview] = {}
    for user, account_id, name, owner in rows:
        review = reviews.setdefault(account_id, AccessReview(account_id, name, owner))
        active = (user.status or "active") == "active"
        review.users.append(
            AccessUser(
                email=user.email, name=user.name, role=user.role, status=user.status,
                last_login_at=user.last_login_at,
                admin=(user.role or "") in admin_roles,
                active=active,
                inactive=active and (user.last_login_at is None or user.last_login_at < cutoff),
                contact_left=bool(user.email) and user.email in left[account_id],
            )
        )  # fmt: skip
    return list(reviews.values())


def access_rows(reviews: Iterable[AccessReview]) -> list[dict[str, object]]:
    """Every user of every review as one flat row (CSV_COLUMNS), the flags as yes/no."""
    yes = {True: "yes", False: "no"}
    return [
        {
            "account_id": r.account_id,
            "account": r.account,
            "email": u.email,
            "name": u.name,
            "role": u.role,
            "status": u.status,
            "last_login_at": u.last_login_at.isoformat() if u.last_login_at else "never",
            "admin": yes[u.admin],
            "inactive": yes[u.inactive],
            "contact_left": yes[u.contact_left],
        }
        for r in reviews
        for u in r.users
    ]
