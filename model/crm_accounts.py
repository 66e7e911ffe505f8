"""Accounts of a secondary crm source: resolved to a canonical account, or owning one.

With two crm sources (two orgs after an acquisition), the primary's accounts are the
canonical accounts. A secondary source's account is an external identity (kind
`crm_account`) that identity resolution links to the canonical account of the same customer
(explicit decision, then domain, then normalized name — model/identity.py), never to an
account of its own source. One that matches no account is a customer only that org has: it
then owns an account of its own (`crm_source` = its source, method `owner`), refreshed from
its record every run. When a match appears later (the primary gains the customer, or a
reviewer links it), the owned account is retired (`is_deleted`): the customer has one
account, the primary's. An ambiguous match owns nothing: it waits on the review list.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from model.tables import Account, ExternalIdentity, utcnow
from model.upsert import upsert_rows

CRM_ACCOUNT = "crm_account"
OWNER = "owner"  # the method of a crm account owning its own account (it matched none)
_DATES = {"renewal_date", "customer_since"}
_TIMES = {"source_modstamp", "updated_at"}


def own_unmatched(session: Session) -> tuple[dict[str, int], bool] | None:
    """Give unmatched secondary crm accounts an account of their own, refresh the owned ones,
    retire owned accounts whose identity now links to another account. Returns the owned
    counts per source and whether any account was added or retired (links must be checked
    again), or None when there is no secondary crm account at all (nothing done)."""
    idents = list(
        session.execute(
            select(ExternalIdentity).where(ExternalIdentity.kind == CRM_ACCOUNT)
        ).scalars()
    )
    if not idents:
        return None
    owning = [
        i
        for i in idents
        if not i.manual and (i.status == "unmatched" or (i.status, i.method) == ("linked", OWNER))
    ]
    rows = [_account(i) for i in owning if isinstance(i.attributes.get("account"), dict)]
    upsert_rows(session, Account.__table__, rows, key=["crm_source", "crm_id"])  # type: ignore[arg-type]
    sources = {i.source for i in idents}
    accounts = {
        (source, crm_id): (acc_id, deleted)
        for acc_id, source, crm_id, deleted in session.execute(
            select(Account.id, Account.crm_source, Account.crm_id, Account.is_deleted).where(
                Account.crm_source.in_(sources)
            )
        ).all()
    }
    counts: Counter[str] = Counter()
    changed = False
    for ident in owning:
        found = accounts.get((ident.source, ident.external_id))
        if found is None:
            continue
        changed |= ident.status != "linked"
        ident.status, ident.method, ident.confidence = "linked", OWNER, 1.0
        ident.account_id, ident.candidates = found[0], []
        counts[ident.source] += 1
    # linked to another account now (a match appeared, or a reviewer decided): its own goes
    retire = [
        found[0]
        for i in idents
        if i.status == "linked" and i.method != OWNER
        and (found := accounts.get((i.source, i.external_id))) is not None and not found[1]
    ]  # fmt: skip
    if retire:
        session.execute(
            update(Account)
            .where(Account.id.in_(retire))
            .values(is_deleted=True, updated_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        changed = True
    session.flush()
    return dict(counts), changed


def _account(ident: ExternalIdentity) -> dict[str, Any]:
    """The account row the identity's stored record describes, under its own source."""
    row: dict[str, Any] = dict(ident.attributes["account"])
    for key in _DATES & set(row):
        row[key] = None if row[key] is None else dt.date.fromisoformat(row[key])
    for key in _TIMES & set(row):
        row[key] = None if row[key] is None else dt.datetime.fromisoformat(row[key])
    row["crm_source"] = ident.source
    row["is_deleted"] = bool(row.get("is_deleted")) or ident.is_deleted
    # stamped now, not when the record was pulled: the upsert keeps it unless the content
    # changed, and "changed since" readers (the inputs digest's mark) compare it with their
    # own clock, which a record pulled before the last mark but owned after it would miss
    row["updated_at"] = utcnow()
    return row
