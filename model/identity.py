"""Identity resolution: link every external record to one canonical Account.

Order of evidence (first that decides wins):
  1. external_id  — the record names the account's crm id (`hint_crm_id`: an organization's
                    external id, a workspace's account id)                          conf 1.0
  2. field        — an account attribute names the record (`organization_id` for an
                    organization, `workspace_id` for a workspace)                   conf 1.0
  3. domain       — one account's website domain is among the record's domains    conf 0.9
  4. name         — normalized company names are equal                             conf 0.75
Two or more candidates at the deciding step make the record `ambiguous` (candidates kept);
none makes it `unmatched`. Manual decisions (`manual=True`) are never overwritten.

Matching goes by an identity's `kind` (organization | workspace), whatever source it came
from, so organizations of two helpdesk instances that are one customer link to one account.
Linking keeps the source: a ticket points at the organization of its own source (`source`,
`helpdesk_org_id`; ids repeat across instances), daily usage at workspaces (`workspace_id`);
contacts and opportunities at the account of their own crm source. A `field` link (an
account attribute naming an organization or workspace id) names a record of one source, the
`field_sources` one of its kind (the first configured): it never links another instance's
record that happens to have the same id.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, cast

from sqlalchemy import Table, bindparam, func, select, update
from sqlalchemy.orm import Session

from model import identity_scope as scope
from model.crm_accounts import CRM_ACCOUNT, OWNER, own_unmatched
from model.links import FULL_RELINK_AT, propagate_links
from model.tables import (
    Account,
    ExternalIdentity,
    utcnow,
)

_SUFFIXES = {
    "inc",
    "incorporated",
    "llc",
    "ltd",
    "limited",
    "corp",
    "corporation",
    "co",
    "company",
    "gmbh",
    "ag",
    "sa",
    "sas",
    "bv",
    "nv",
    "plc",
    "pty",
    "oy",
    "ab",
    "the",
    "group",
    "holdings",
}
# the account attribute that names an identity of each kind (a crm field, filled by sync)
ACCOUNT_ATTRIBUTE_FOR_KIND = {"organization": "organization_id", "workspace": "workspace_id"}
# crm_account: an account of a secondary crm source (model/crm_accounts.py)
IDENTITY_KINDS = (*ACCOUNT_ATTRIBUTE_FOR_KIND, CRM_ACCOUNT)


def normalize_name(name: str | None) -> str:
    """'ACME, Inc.' -> 'acme'; 'The Foo-Bar Group' -> 'foo bar'."""
    words = re.sub(r"[^0-9a-z]+", " ", (name or "").lower()).split()
    kept = [w for w in words if w not in _SUFFIXES]
    return " ".join(kept or words)


def crm_key(crm_id: str | None) -> str | None:
    """The comparable form of a crm id: its first 15 characters, or None if it is not one.

    The crm's record ids come in two spellings of one record: a case-sensitive 15-character
    id and the 18-character id that appends a 3-character case checksum. Both compare equal
    on the first 15; ids of any other length are not crm record ids and match nothing."""
    return crm_id[:15] if crm_id and len(crm_id) in (15, 18) else None


def domain_key(domain: Any) -> str:
    return str(domain).lower().removeprefix("www.")


@dataclass(frozen=True)
class IndexKeys:
    """Every key some identities can match on (`match` looks up nothing else): an index
    built for them holds only the accounts under these keys, so a run relinking a few
    identities does not hold the whole book's index (at 50,000 accounts ~50 MiB)."""

    crm: frozenset[str]
    fields: frozenset[tuple[str, str]]
    domains: frozenset[str]
    names: frozenset[str]

    @classmethod
    def of(cls, idents: Iterable[IdentityLike]) -> IndexKeys:
        crm: set[str] = set()
        fields: set[tuple[str, str]] = set()
        domains: set[str] = set()
        names: set[str] = set()
        for ident in idents:
            if key := crm_key(ident.hint_crm_id):
                crm.add(key)
            fields.add((ident.kind, ident.external_id))
            domains.update(domain_key(d) for d in ident.domains or [])
            if norm := normalize_name(ident.name):
                names.add(norm)
        return cls(frozenset(crm), frozenset(fields), frozenset(domains), frozenset(names))


# the accounts under one domain or name: one id (almost every key), else a tuple of them; a
# set per key cost ~400 bytes an account, ~20 MiB of a 50,000-account book's index
Ids = int | Iterable[int]


def ids_of(held: Ids | None) -> set[int]:
    """The accounts an index entry holds, as a set (empty for no entry)."""
    if held is None:
        return set()
    return {held} if isinstance(held, int) else set(held)


def _put(entries: dict[str, Ids], key: str, acc_id: int) -> None:
    held = entries.get(key)
    if held is None:
        entries[key] = acc_id
    elif acc_id not in (ids := ids_of(held)):
        entries[key] = (*sorted(ids), acc_id)


@dataclass
class AccountIndex:
    by_crm_key: dict[str, int] = field(default_factory=dict)
    by_field: dict[tuple[str, str], int] = field(default_factory=dict)
    by_domain: dict[str, Ids] = field(default_factory=dict)  # see `Ids`
    by_name: dict[str, Ids] = field(default_factory=dict)
    crm_source: dict[int, str] = field(default_factory=dict)  # account id -> its crm source

    @classmethod
    def build(cls, session: Session, keys: IndexKeys | None = None) -> AccountIndex:
        """The live accounts by every key `match` reads (with `keys`: only under those)."""
        idx = cls()
        rows = session.execute(
            select(
                Account.id, Account.crm_id, Account.domain, Account.name, Account.attributes,
                Account.crm_source,
            ).where(Account.is_deleted.is_(False))
            .execution_options(yield_per=RESOLVE_BATCH)  # streamed: never the book's rows at once
        )  # fmt: skip
        for acc_id, crm_id, domain, name, attrs, crm_source in rows:
            kept = False
            if (key := crm_key(crm_id)) and (keys is None or key in keys.crm):
                idx.by_crm_key[key], kept = acc_id, True
            for kind, attr in ACCOUNT_ATTRIBUTE_FOR_KIND.items():
                value = (attrs or {}).get(attr)
                if value and (keys is None or (kind, str(value)) in keys.fields):
                    idx.by_field[(kind, str(value))], kept = acc_id, True
            if domain and (keys is None or domain in keys.domains):
                _put(idx.by_domain, domain, acc_id)
                kept = True
            if (norm := normalize_name(name)) and (keys is None or norm in keys.names):
                _put(idx.by_name, norm, acc_id)
                kept = True
            if crm_source and (kept or keys is None):
                idx.crm_source[acc_id] = crm_source
        return idx


@dataclass(frozen=True)
class Match:
    status: str
    account_id: int | None = None
    method: str | None = None
    confidence: float | None = None
    candidates: tuple[int, ...] = ()


class IdentityLike(Protocol):
    """What matching reads of an identity: an ORM row or a plain selected row."""

    source: str
    kind: str
    external_id: str
    name: str | None
    domains: list[Any] | None
    hint_crm_id: str | None


def match(
    idx: AccountIndex, ident: IdentityLike, field_sources: Mapping[str, str] | None = None
) -> Match:
    """Decide one record's link from the account index (pure). `field_sources`: identity
    kind -> the source whose ids account attributes name (None: any source)."""
    if (key := crm_key(ident.hint_crm_id)) and key in idx.by_crm_key:
        return Match("linked", idx.by_crm_key[key], "external_id", 1.0)
    named = field_sources is None or field_sources.get(ident.kind, ident.source) == ident.source
    if named and (acc := idx.by_field.get((ident.kind, ident.external_id))) is not None:
        return Match("linked", acc, "field", 1.0)
    # a crm account never matches an account of its own crm (its own, or its twin there)
    other = (lambda ids: {a for a in ids if idx.crm_source.get(a) != ident.source}) if ident.kind == "crm_account" else (lambda ids: ids)  # fmt: skip
    by_domain: set[int] = set()
    for d in ident.domains or []:
        by_domain |= other(ids_of(idx.by_domain.get(domain_key(d))))
    if len(by_domain) == 1:
        return Match("linked", next(iter(by_domain)), "domain", 0.9)
    if len(by_domain) > 1:
        return Match("ambiguous", method="domain", candidates=tuple(sorted(by_domain)))
    by_name = other(ids_of(idx.by_name.get(normalize_name(ident.name))))
    if len(by_name) == 1:
        return Match("linked", next(iter(by_name)), "name", 0.75)
    if len(by_name) > 1:
        return Match("ambiguous", method="name", candidates=tuple(sorted(by_name)))
    return Match("unmatched")


RESOLVE_BATCH = 2000  # identities read per page; changed links written per executemany


def resolve_identities(
    session: Session,
    kinds: Iterable[str] = IDENTITY_KINDS,
    *,
    full_relink: bool = False,
    field_sources: Mapping[str, str] | None = None,
) -> dict[str, int]:
    """Link the non-manual identities that can get another answer since the last committed
    resolution (model/identity_scope.py; every one with `full_relink`, as a reconciling run
    does, or without a mark); then propagate account ids to dependent rows (those that can be
    wrong since the same mark: model/links.py; every row with `full_relink`). Returns identities per source and outcome.

    Secondary crm accounts go first: those that match nothing own an account
    (model/crm_accounts.py), which the other kinds can then match in the same run."""
    started = utcnow()  # before any read: the next resolution's watermark
    kinds = list(kinds)
    key = scope.mark_key(kinds, field_sources)
    since = None if full_relink else scope.read_since(session, key)
    counts: dict[str, int] = defaultdict(int)
    relinked = Relinked()
    rest = [k for k in kinds if k != CRM_ACCOUNT]
    if CRM_ACCOUNT in kinds:
        _link(session, [CRM_ACCOUNT], field_sources, counts, relinked, since)
        if (owned := own_unmatched(session)) is not None:
            counts.update({f"{k}.owns_account": v for k, v in owned[0].items()})
            full_relink = full_relink or owned[1]  # accounts added or retired: every row
    _link(session, rest, field_sources, counts, relinked, since)
    propagate_links(session, None if full_relink else relinked.keys(), since)
    scope.save_mark(session, key, started)
    return dict(counts)


class Relinked:
    """The (kind, external id) of identities whose account changed in this resolution, kept
    up to `FULL_RELINK_AT`: past it dependent rows are re-pointed in one whole pass
    (model/links.py), so no more are held (a first sync's 150,000 at 50,000 accounts: ~20 MiB)."""

    def __init__(self) -> None:
        self._keys: set[tuple[str, str]] | None = set()

    def add(self, kind: str, external_id: str) -> None:
        if self._keys is not None:
            self._keys.add((kind, external_id))
            if len(self._keys) > FULL_RELINK_AT:
                self._keys = None

    def keys(self) -> set[tuple[str, str]] | None:
        """The keys, or None when there were too many to visit one by one."""
        return self._keys


def _link(
    session: Session,
    kinds: list[str],
    field_sources: Mapping[str, str] | None,
    counts: dict[str, int],
    relinked: Relinked,
    since: datetime | None = None,
) -> None:
    """Match identities of `kinds` (all of them, or with `since` those that can have another
    answer since then) against a fresh account index; write the links that changed.
    Identities are read as plain rows a page at a time (never the whole table as ORM
    objects), and each page's changed links are written before the next is read, so no more
    than a page of them is held. `counts` gets every identity's outcome."""
    scoped = (
        None
        if since is None
        else scope.to_relink(session, kinds, since, ACCOUNT_ATTRIBUTE_FOR_KIND)
    )
    t = ExternalIdentity.__table__.c
    stmt = select(
        t.id, t.source, t.kind, t.external_id, t.name, t.domains, t.hint_crm_id,
        t.status, t.account_id, t.method,
    ).where(t.kind.in_(kinds), t.manual.is_(False))  # fmt: skip
    if scoped is None:  # every identity, a page at a time, against the whole book's index
        idx, after = AccountIndex.build(session), None
        while page := session.execute(_page(stmt, after)).all():
            _write(session, _matched(idx, page, field_sources, relinked))
            after = page[-1].id
    elif scoped:  # a scope (at most a quarter of the book): an index of just its keys
        rows = [
            r for chunk in _chunks(sorted(scoped)) for r in session.execute(stmt.where(t.id.in_(chunk)))
        ]  # fmt: skip
        idx = AccountIndex.build(session, IndexKeys.of(rows))
        _write(session, _matched(idx, rows, field_sources, relinked))
    session.flush()
    _count(session, kinds, counts)


def _page(stmt: Any, after: int | None) -> Any:
    """The next `RESOLVE_BATCH` identities of `stmt` by id after `after` (keyset paging: each
    page is read whole before its links are written, on SQLite as on PostgreSQL)."""
    t = ExternalIdentity.__table__.c
    stmt = stmt.order_by(t.id).limit(RESOLVE_BATCH)
    return stmt if after is None else stmt.where(t.id > after)


# a changed link as `_matched` returns it (a dict each, with its own timestamp, was ~500
# bytes: 75 MiB for a 50,000-account first sync's 150,000 identities held at once)
LINK_FIELDS = ("ident_id", "status", "account_id", "method", "confidence", "candidates")
Link = tuple[int, str, int | None, str | None, float | None, tuple[int, ...]]


def _write(session: Session, changed: list[Link]) -> None:
    """Write changed links, `RESOLVE_BATCH` per executemany."""
    table = cast(Table, ExternalIdentity.__table__)
    # a link is matching's output, not its input: the identity's match stamp stays
    write = (
        update(table)
        .where(table.c.id == bindparam("ident_id"))
        .values(match_changed_at=table.c.match_changed_at)
    )
    for start in range(0, len(changed), RESOLVE_BATCH):
        now = utcnow()
        batch = [
            dict(zip(LINK_FIELDS, link, strict=True), candidates=list(link[-1]), updated_at=now)
            for link in changed[start : start + RESOLVE_BATCH]
        ]
        session.execute(write, batch)


def _matched(
    idx: AccountIndex,
    rows: Iterable[Any],
    field_sources: Mapping[str, str] | None,
    relinked: Relinked,
) -> list[Link]:
    """The link updates (`LINK_FIELDS`) of the identities whose match differs from what is
    stored; adds the (kind, external id) of those whose account changed to `relinked`."""
    changed: list[Link] = []
    for ident in rows:
        m = match(idx, ident, field_sources)
        if m.status == "unmatched" and ident.method == OWNER:
            m = Match("linked", ident.account_id, OWNER, 1.0)  # still owns its own account
        if (ident.status, ident.account_id, ident.method) != (m.status, m.account_id, m.method):
            if ident.account_id != m.account_id:
                relinked.add(ident.kind, ident.external_id)
            changed.append(
                (ident.id, m.status, m.account_id, m.method, m.confidence, tuple(m.candidates))
            )
    return changed


def _count(session: Session, kinds: list[str], counts: dict[str, int]) -> None:
    """Identities of `kinds` per source and outcome (`linked_by_<method>`, or the status), as
    stored now: the same whether every identity or a few were matched."""
    t = ExternalIdentity
    rows = session.execute(
        select(t.source, t.status, t.method, func.count())
        .where(t.kind.in_(kinds), t.manual.is_(False))
        .group_by(t.source, t.status, t.method)
    )
    for source, status, method, n in rows:
        label = f"linked_by_{method}" if status == "linked" else status
        counts[f"{source}.{label}"] += n


def _chunks(ids: list[int]) -> Iterable[list[int]]:
    for start in range(0, len(ids), 900):
        yield ids[start : start + 900]


def decide(
    session: Session, identity_id: int, account_id: int | None, *, reject: bool = False
) -> None:
    """Record a reviewer's decision; it persists across syncs (manual rows are never re-resolved)."""
    ident = session.get(ExternalIdentity, identity_id)
    if ident is None:
        raise LookupError(f"no identity with id {identity_id}")
    ident.manual = True
    ident.status = "rejected" if reject else "linked"
    ident.account_id = None if reject else account_id
    ident.method, ident.confidence = "manual", 1.0
    session.flush()
    propagate_links(session, {(ident.kind, ident.external_id)})
