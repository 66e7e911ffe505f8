"""Every stored row about one account, found by table: what a data export reads and an
erasure deletes.

An account's rows are found three ways, so nothing is missed whatever a table is:
- any column named `account_id`, or a foreign key to `accounts.id` (this finds tables added
  later without being told about them);
- the external keys it is known by (its crm id, its contacts', opportunities' and tickets'
  ids, its organizations and workspaces): rows pulled but never linked to it, and sync
  bookkeeping that names an external record (`written_state`, `outbox`, `quarantine`);
- outbox creations whose key names one of its escalations (`esc:<dedup key>...`) or the
  account itself (`ops:<what>:a<id>:...`, the CS-operations tasks).
`AUDIT_TABLES` are kept by an erasure: they hold no personal data, only what was done.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, Table, false, or_, select
from sqlalchemy.orm import Session

from model.orm import Base
from model.tables import (
    Account,
    AppUser,
    Contact,
    Escalation,
    ExternalIdentity,
    Opportunity,
    Ticket,
)

AUDIT_TABLES = frozenset({"data_requests", "erased_keys", "sync_runs", "sync_cursors"})
# derived bookkeeping keyed by account id, no data about the account itself (the inputs
# digest's change log and stored digests): neither exported nor erased; the next scoring
# run drops an erased account's entries, as it is no longer live (scoring/digest_marks.py)
BOOKKEEPING_TABLES = frozenset({"account_changes", "inputs_digests"})
# tables keyed by an external record's id rather than by account: which column, which entities
_KEYED: dict[str, tuple[tuple[str, tuple[str, ...]], ...]] = {
    "contacts": (("crm_id", ("contact",)), ("account_crm_id", ("account",))),
    "opportunities": (("crm_id", ("opportunity",)), ("account_crm_id", ("account",))),
    "tickets": (("helpdesk_id", ("ticket",)), ("helpdesk_org_id", ("organization",))),
    "usage_daily": (("workspace_id", ("workspace",)),),
    "app_users": (("workspace_id", ("workspace",)), ("external_id", ("app_user",))),
    "written_state": (("target_id", ("account", "organization", "ticket", "workspace")),),
    "outbox": (("target_id", ("account", "organization", "ticket", "workspace")),),
    "quarantine": (
        ("external_id", ("account", "contact", "opportunity", "organization", "ticket")),
    ),
}


def ops_key_prefix(account_id: int, what: str) -> str:
    """The outbox key prefix of a CS-operations creation about an account."""
    return f"ops:{what}:a{account_id}:"


@dataclass
class AccountKeys:
    """The external keys one account is known by, per model entity, and its escalations."""

    account_id: int
    keys: dict[str, set[str]] = field(default_factory=dict)
    dedup_keys: set[str] = field(default_factory=set)

    def add(self, entity: str, value: object) -> None:
        if value is not None and value != "":
            self.keys.setdefault(entity, set()).add(str(value))

    def of(self, *entities: str) -> set[str]:
        return set().union(*(self.keys.get(e, set()) for e in entities))

    def count(self) -> int:
        return sum(len(v) for v in self.keys.values())


def account_keys(session: Session, account_id: int) -> AccountKeys:
    """Collect the keys: the account's, then what belongs to it by id or by those keys."""
    found = AccountKeys(account_id)
    acc = session.get(Account, account_id)
    if acc is None:
        return found
    found.add("account", acc.crm_id)
    for ident in session.scalars(
        select(ExternalIdentity).where(ExternalIdentity.account_id == account_id)
    ):
        found.add(ident.kind, ident.external_id)
    crm = [acc.crm_id] if acc.crm_id else []
    for model, entity in ((Contact, "contact"), (Opportunity, "opportunity")):
        owned = model.account_id == account_id
        if crm:
            owned = or_(owned, model.account_crm_id.in_(crm))
        for crm_id in session.scalars(select(model.crm_id).where(owned)):
            found.add(entity, crm_id)
    spaces = sorted(found.of("workspace"))
    if spaces:
        for user_id in session.scalars(
            select(AppUser.external_id).where(AppUser.workspace_id.in_(spaces))
        ):
            found.add("app_user", user_id)
    orgs = [int(o) for o in found.of("organization") if o.isdigit()]
    ticket_owned = Ticket.account_id == account_id
    if orgs:
        ticket_owned = or_(ticket_owned, Ticket.helpdesk_org_id.in_(orgs))
    for helpdesk_id in session.scalars(select(Ticket.helpdesk_id).where(ticket_owned)):
        found.add("ticket", helpdesk_id)
    found.dedup_keys = set(
        session.scalars(select(Escalation.dedup_key).where(Escalation.account_id == account_id))
    )
    return found


def _account_columns(table: Table) -> list[str]:
    names = []
    for col in table.columns:
        points_at_account = any(fk.column.table.name == "accounts" for fk in col.foreign_keys)
        if col.name == "account_id" or (points_at_account and table.name != "accounts"):
            names.append(col.name)
    return names


def row_filter(table: Table, keys: AccountKeys) -> ColumnElement[bool] | None:
    """The WHERE clause picking `table`'s rows about the account, or None when it has none."""
    conds: list[ColumnElement[bool]] = [
        table.c[name] == keys.account_id for name in _account_columns(table)
    ]
    if table.name == "accounts":
        conds.append(table.c.id == keys.account_id)
    if table.name == "external_identities":
        for kind, values in keys.keys.items():
            conds.append((table.c.kind == kind) & table.c.external_id.in_(sorted(values)))
    for column, entities in _KEYED.get(table.name, ()):
        values = keys.of(*entities)
        if not values:
            continue
        col = table.c[column]
        is_number = col.type.python_type is int
        typed = sorted(int(v) for v in values if v.isdigit()) if is_number else sorted(values)
        if typed:
            conds.append(col.in_(typed))
    if table.name == "outbox":
        conds.append(table.c.key.like(f"ops:%:a{keys.account_id}:%"))
        conds.extend(
            table.c.key.startswith(f"esc:{d}", autoescape=True) for d in sorted(keys.dedup_keys)
        )
    if not conds:
        return None
    return or_(false(), *conds)


def account_tables(keys: AccountKeys) -> Iterator[tuple[Table, ColumnElement[bool]]]:
    """Every table holding rows about the account, in an order rows can be deleted in
    (referencing tables first), with the clause that picks them."""
    for table in reversed(Base.metadata.sorted_tables):
        if table.name in BOOKKEEPING_TABLES:
            continue
        where = row_filter(table, keys)
        if where is not None:
            yield table, where
