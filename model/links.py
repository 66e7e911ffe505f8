"""Propagate identity links to the rows that depend on them: tickets, usage, contacts,
opportunities and child accounts point at their canonical account (model/identity.py
decides the links; this follows them).

Which rows can be wrong. A row's account is a function of the row's own key columns (a
ticket's organization, a usage row's workspace, a contact's or opportunity's account crm id,
a child's parent crm id) and of the rows its key names (the linked identity of that key, the
account with that crm id). So after a committed propagation a row's answer can move only when:

- the row changed: new, or re-read with another key (`synced_at` on tickets, `updated_at`
  elsewhere: moved by the upsert only with a change of content; a ticket re-read under
  another organization also loses its account in the upsert, so a ticket or usage row that
  can be wrong by itself has no account);
- the identity its key names changed: re-linked in this transaction (`relinked`), or
  changed since the mark (`updated_at`: re-pulled, decided by hand, linked by a run);
- an account its key names, or the account it points at, changed (`updated_at`: added, its
  crm id or source changed, soft-deleted) — a hard delete (an erasure) deletes the rows
  pointing at the account and detaches its children (their `updated_at` moves).

With `since` (the watermark of the last committed resolution: model/identity_scope.py) only
those rows are visited; without it, every contact, opportunity and child and the tickets and
usage rows with no account or of a re-linked identity; past `FULL_RELINK_AT` changed
identities or accounts, or with no `relinked` at all, every row. Either way a visited row
gets the same answer (the same SQL), so the scoped pass leaves what the whole-book pass
leaves (tests/model/test_links_incremental.py).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Subquery, exists, func, select, update
from sqlalchemy.orm import Session

from model.crm_accounts import CRM_ACCOUNT
from model.stats import analyze_stale
from model.tables import Account, Contact, ExternalIdentity, Opportunity, Ticket, UsageDaily

IN_CHUNK = 900
FULL_RELINK_AT = 2000  # more changed identities or accounts than this: one pass is cheaper


@dataclass(frozen=True)
class Changed:
    """What dependent rows can follow: identities (kind, external id) and accounts (ids and
    crm ids) changed since the mark; None: visit every row of the tables that read them."""

    identities: set[tuple[str, str]] | None
    account_ids: list[int] | None = None
    crm_ids: list[str] | None = None


def propagate_links(
    session: Session,
    relinked: Collection[tuple[str, str]] | None = None,
    since: dt.datetime | None = None,
) -> None:
    """Point tickets, usage, contacts, opportunities and child accounts at their canonical
    account: on every row (`relinked` None), or on the rows that can be wrong (see above).

    `relinked`: (kind, external_id) of the identities whose account changed in this
    transaction; `since`: the last committed resolution's watermark (None: every contact,
    opportunity and child, and every ticket and usage row with no account). Plain SQL updates
    (`synchronize_session=False`): the ORM's default would fetch the key of every updated row
    back into Python (RETURNING), 630 MiB at 10,000 accounts."""
    changed = changed_since(session, relinked, since)
    ids = changed.identities
    if ids is None:  # every row: one join where that pays (PostgreSQL), else a lookup per row
        plan_on_fresh_statistics(session)
        for keyed in (Ticket, UsageDaily):
            repoint_every_row(session, keyed, set_based=_set_based_pays(session))
    else:
        org_key, ws_key = KEYED_BY_IDENTITY[Ticket][0], KEYED_BY_IDENTITY[UsageDaily][0]
        orgs = {int(x) for kind, x in ids or () if kind == "organization" and x.isdigit()}
        _repoint(session, Ticket, _linked_account("organization", org_key, Ticket.source), _keyed(
            ids is None, Ticket.account_id, Ticket.synced_at, since,
            [(Ticket.helpdesk_org_id, orgs)],
        ))  # fmt: skip
        workspaces = {x for kind, x in ids or () if kind == "workspace"}
        _repoint(session, UsageDaily, _linked_account("workspace", ws_key), _keyed(
            ids is None, UsageDaily.account_id, UsageDaily.updated_at, since,
            [(UsageDaily.workspace_id, workspaces)],
        ))  # fmt: skip
    whole = ids is None or changed.account_ids is None
    crm_keys = {*(changed.crm_ids or ()), *(x for kind, x in ids or () if kind == CRM_ACCOUNT)}
    for model in (Contact, Opportunity):
        own = (
            select(Account.id)
            .where(Account.crm_source == model.source, Account.crm_id == model.account_crm_id)
            .scalar_subquery()
        )
        # a secondary crm's record: the account it resolved to; else its own source's account
        resolved = _linked_account(CRM_ACCOUNT, model.account_crm_id, model.source)
        _repoint(session, model, func.coalesce(resolved, own), _stamped(
            whole, model.updated_at, since,
            [(model.account_id, changed.account_ids), (model.account_crm_id, crm_keys)],
        ))  # fmt: skip
    parent = Account.__table__.alias("parent")
    parent_id = (
        select(parent.c.id)
        .where(parent.c.crm_source == Account.crm_source, parent.c.crm_id == Account.parent_crm_id)
        .scalar_subquery()
    )
    _repoint(session, Account, parent_id, _stamped(
        whole, Account.updated_at, since,
        [(Account.parent_id, changed.account_ids), (Account.parent_crm_id, changed.crm_ids)],
    ), column="parent_id")  # fmt: skip


def changed_since(
    session: Session, relinked: Collection[tuple[str, str]] | None, since: dt.datetime | None
) -> Changed:
    """The identities re-linked in this transaction or changed since `since`, and the accounts
    changed since then (None past `FULL_RELINK_AT` of either, or without `since`)."""
    if relinked is None or len(relinked) > FULL_RELINK_AT:
        return Changed(None)
    if since is None:
        return Changed(set(relinked))
    t = ExternalIdentity
    stamped = select(t.kind, t.external_id).where(t.updated_at > since)
    ids = {*relinked, *session.execute(stamped.limit(FULL_RELINK_AT + 1)).tuples()}
    accounts = session.execute(
        select(Account.id, Account.crm_id)
        .where(Account.updated_at > since)
        .limit(FULL_RELINK_AT + 1)
    ).all()
    if len(ids) > FULL_RELINK_AT:
        return Changed(None)
    if len(accounts) > FULL_RELINK_AT:
        return Changed(ids)
    crm_ids = sorted({crm for _, crm in accounts if crm})
    return Changed(ids, sorted(a for a, _ in accounts), crm_ids)


Keys = list[tuple[Any, Collection[Any] | None]]


def _keyed(
    whole: bool, account: Any, stamp: Any, since: dt.datetime | None, keys: Keys
) -> list[ColumnElement[bool] | None]:
    """Where a ticket or usage row can be wrong: every row (`whole`); else rows with no account
    (new, or cleared by the upsert when their organization changed), changed since `since`
    if given, and rows whose key is among the changed `keys`. (Looked up by the account
    column's index, not by the stamp's: without autovacuum the stamp index's newest end fills
    with dead entries, 0.4 s to find 60 tickets at 2,000 accounts.)"""
    if whole:
        return [None]
    unlinked = account.is_(None)
    return [unlinked if since is None else unlinked & (stamp > since), *_within(keys)]


def _stamped(
    whole: bool, stamp: Any, since: dt.datetime | None, keys: Keys
) -> list[ColumnElement[bool] | None]:
    """Where a contact, opportunity or child can be wrong: every row (`whole`, or no `since`);
    else rows changed since `since` and rows whose key is among the changed `keys`."""
    if whole or since is None:
        return [None]
    return [stamp > since, *_within(keys)]


def _within(keys: Keys) -> list[ColumnElement[bool] | None]:
    """`column IN (...)` per (column, values), in chunks under every driver's parameter limit."""
    out: list[ColumnElement[bool] | None] = []
    for column, values in keys:
        ordered = sorted(values or ())
        out += [column.in_(ordered[i : i + IN_CHUNK]) for i in range(0, len(ordered), IN_CHUNK)]
    return out


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


# the rows whose account is their key's linked identity: (key, identity kind, source or None)
KEYED_BY_IDENTITY: dict[Any, tuple[Any, str, Any]] = {
    Ticket: (
        Ticket.helpdesk_org_id.cast(ExternalIdentity.external_id.type), "organization",
        Ticket.source,
    ),
    UsageDaily: (UsageDaily.workspace_id, "workspace", None),
}  # fmt: skip


def repoint_every_row(session: Session, model: Any, *, set_based: bool = True) -> None:
    """Every ticket or usage row (`model`) pointed at its key's linked identity's account:
    set-based (`_repoint_whole`) or with the per-row lookup scoped passes use (the two give the
    same answer: tests/model/test_links_whole.py; bench relink times both)."""
    key, kind, source = KEYED_BY_IDENTITY[model]
    if set_based:
        _repoint_whole(session, model, key, kind, source)
    else:
        _repoint(session, model, _linked_account(kind, key, source), [None])


def plan_on_fresh_statistics(session: Session) -> list[str]:
    """Before a whole-book pass on PostgreSQL: ANALYZE the identities (this transaction just
    matched them) and the tickets and usage rows where the pull changed them past
    autovacuum's rule. A first sync's tables were never analyzed (autovacuum off, or not yet
    round); planned on a "one identity, a few tickets" guess, the join became a nested loop
    scanning every ticket of the source once per identity: 10,000 accounts' 745,000 tickets
    still unfinished after 14 minutes, a hash join once analyzed."""
    return analyze_stale(
        session,
        only=(Ticket.__tablename__, UsageDaily.__tablename__),
        always=(ExternalIdentity.__tablename__,),
    )


def _set_based_pays(session: Session) -> bool:
    """Whether a whole pass goes set-based: on PostgreSQL. SQLite (3.40) takes `UPDATE ...
    FROM` but joins the tickets to the grouped identities as a nested loop, the tickets' key
    being a CAST: at 2,000 accounts (148,334 tickets, 3,523 identities) the set-based pass over
    tickets took 187.9 s of a first sync's identity step, against 0.2 s for the lookup per row
    (2.6 s with every ticket to re-point); usage rows 0.32 s against 0.25 s."""
    return session.get_bind().dialect.name == "postgresql"


def _first_linked(kind: str, source: bool) -> Subquery:
    """Per external id (and `source`), the linked identity of `kind` with the lowest id and its
    account: what `_linked_account` answers row by row, as one derived table."""
    ei = ExternalIdentity
    keys = [ei.external_id, *([ei.source] if source else [])]
    first = (
        select(*keys, func.min(ei.id).label("first_id"))
        .where(ei.kind == kind, ei.status == "linked")
        .group_by(*keys)
        .subquery()
    )
    return (
        select(*(first.c[k.key] for k in keys), ei.account_id)
        .select_from(first)
        .join(ei, ei.id == first.c.first_id)
        .subquery()
    )


def _repoint_whole(session: Session, model: Any, key: Any, kind: str, source: Any = None) -> None:
    """Every row of `model` (tickets, usage) pointed at the account of the linked identity of
    `kind` its `key` names (and of its `source`), else at none: the answer `_repoint` gives
    with `_linked_account`, set-based. The correlated form looks the identity up once per row,
    twice (in the WHERE and the SET): at 50,000 accounts on PostgreSQL a whole pass over 7.2
    million usage rows took over 7 minutes of a first sync's identity step, and the nightly
    reconcile paid it again with nothing to change. Here one join sets the rows whose key has
    a linked identity, and one anti-join clears the others."""
    linked = _first_linked(kind, source is not None)
    match = key == linked.c.external_id
    if source is not None:
        match = match & (source == linked.c.source)
    session.execute(
        update(model)
        .where(match, model.account_id.is_distinct_from(linked.c.account_id))
        .values(account_id=linked.c.account_id)
        .execution_options(synchronize_session=False)
    )
    ei = ExternalIdentity
    has = select(ei.id).where(ei.kind == kind, ei.status == "linked", ei.external_id == key)
    if source is not None:
        has = has.where(ei.source == source)
    session.execute(
        update(model)
        .where(model.account_id.is_not(None), ~exists(has))
        .values(account_id=None)
        .execution_options(synchronize_session=False)
    )


def _repoint(
    session: Session,
    model: Any,
    account: Any,
    scopes: list[ColumnElement[bool] | None],
    column: str = "account_id",
) -> None:
    """Set `model.<column>` to `account` where it differs, within each of `scopes` (None: on
    every row)."""
    target = getattr(model, column)
    for scope in scopes:
        stmt = update(model).where(target.is_distinct_from(account))
        if scope is not None:
            stmt = stmt.where(scope)
        session.execute(stmt.values({column: account}).execution_options(synchronize_session=False))
