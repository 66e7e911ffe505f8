"""Propagate identity links to the rows that depend on them: tickets, usage, contacts,
opportunities and child accounts point at their canonical account (model/identity.py
decides the links; this follows them)."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.orm import Session

from model.crm_accounts import CRM_ACCOUNT
from model.tables import Account, Contact, ExternalIdentity, Opportunity, Ticket, UsageDaily

IN_CHUNK = 900
FULL_RELINK_AT = 2000  # more re-pointed identities than this: one pass over the tables is cheaper


def propagate_links(session: Session, relinked: Collection[tuple[str, str]] | None = None) -> None:
    """Point tickets, usage, contacts, opportunities and child accounts at their canonical account.

    Tickets and usage rows are the bulk of the book, so only rows that can be wrong are
    visited: rows with no account yet (new, or cleared by the upsert because their
    organization changed) and rows of the identities in `relinked` ((kind, external_id)
    whose account changed). `relinked=None`, or more than `FULL_RELINK_AT` of them, checks
    every row. Plain SQL updates (`synchronize_session=False`): the ORM's default would fetch
    the key of every updated row back into Python (RETURNING), 630 MiB at 10,000 accounts."""
    org_account = _linked_account(
        "organization",
        Ticket.helpdesk_org_id.cast(ExternalIdentity.external_id.type),
        Ticket.source,
    )
    ws_account = _linked_account("workspace", UsageDaily.workspace_id)
    full = relinked is None or len(relinked) > FULL_RELINK_AT
    orgs = sorted({int(x) for kind, x in relinked or () if kind == "organization" and x.isdigit()})
    workspaces = sorted({x for kind, x in relinked or () if kind == "workspace"})
    _repoint(session, Ticket, org_account, None if full else (Ticket.helpdesk_org_id, orgs))
    _repoint(
        session, UsageDaily, ws_account, None if full else (UsageDaily.workspace_id, workspaces)
    )
    for model in (Contact, Opportunity):
        own = (
            select(Account.id)
            .where(Account.crm_source == model.source, Account.crm_id == model.account_crm_id)
            .scalar_subquery()
        )
        # a secondary crm's record: the account it resolved to; else its own source's account
        resolved = _linked_account(CRM_ACCOUNT, model.account_crm_id, model.source)
        acc = func.coalesce(resolved, own)
        session.execute(
            update(model)
            .where(model.account_id.is_distinct_from(acc))
            .values(account_id=acc)
            .execution_options(synchronize_session=False)
        )
    parent = Account.__table__.alias("parent")
    parent_id = (
        select(parent.c.id)
        .where(parent.c.crm_source == Account.crm_source, parent.c.crm_id == Account.parent_crm_id)
        .scalar_subquery()
    )
    session.execute(
        update(Account)
        .where(Account.parent_id.is_distinct_from(parent_id))
        .values(parent_id=parent_id)
        .execution_options(synchronize_session=False)
    )


def _linked_account(kind: str, external_id: Any, source: Any = None) -> Any:
    """The account of the linked identity of `kind` whose external id is `external_id` and,
    given a `source`, of that source (a correlated scalar subquery; without a source, the
    first by id if two sources of one kind both link it)."""
    stmt = (
        select(ExternalIdentity.account_id)
        .where(ExternalIdentity.kind == kind, ExternalIdentity.status == "linked")
        .where(ExternalIdentity.external_id == external_id)
    )
    if source is not None:
        stmt = stmt.where(ExternalIdentity.source == source)
    return stmt.order_by(ExternalIdentity.id).limit(1).scalar_subquery()


def _repoint(
    session: Session, model: Any, account: Any, relinked: tuple[Any, list[Any]] | None
) -> None:
    """Set `model.account_id` to `account` where it differs: on every row (`relinked` None), or
    on rows with no account yet plus those whose `relinked` column value is in its list."""
    scopes: list[ColumnElement[bool] | None] = [None]
    if relinked is not None:
        column, values = relinked
        scopes = [model.account_id.is_(None), *_in(column, values)]
    for scope in scopes:
        stmt = update(model).where(model.account_id.is_distinct_from(account))
        if scope is not None:
            stmt = stmt.where(scope)
        session.execute(
            stmt.values(account_id=account).execution_options(synchronize_session=False)
        )


def _in(column: Any, values: list[Any]) -> list[ColumnElement[bool]]:
    """`column IN (...)` in chunks that stay under every driver's bound-parameter limit."""
    return [column.in_(values[i : i + IN_CHUNK]) for i in range(0, len(values), IN_CHUNK)]
