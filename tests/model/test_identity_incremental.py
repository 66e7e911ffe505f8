"""Incremental identity resolution (model/identity_scope.py) links exactly what a full relink
links, after new and changed accounts and identities, on SQLite and PostgreSQL; and it
matches only the identities such a change can reach."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from model import identity_scope, marks
from model.identity import resolve_identities
from model.tables import Account, ExternalIdentity, utcnow
from sync.erasure import erase_account
from tests.model.test_identity import mixed_idents


def _links(s: Session) -> dict[tuple[str, str], tuple[Any, ...]]:
    t = ExternalIdentity
    rows = s.execute(
        select(t.source, t.external_id, t.status, t.account_id, t.method, t.candidates)
    )
    return {(src, ext): (st, acc, m, sorted(c or [])) for src, ext, st, acc, m, c in rows}


def _account(s: Session, n: int, name: str, domain: str | None = None, **kw: Any) -> Account:
    acc = Account(crm_source="salesforce", crm_id=f"001{n:012d}AAA", name=name, domain=domain, **kw)
    s.add(acc)
    s.flush()
    return acc


def _seed(s: Session) -> dict[str, int]:
    accs = {
        "acme": _account(s, 1, "Acme Inc", "acme.com"),
        "globex": _account(s, 2, "Globex", "globex.io", attributes={"organization_id": "77"}),
        "twin1": _account(s, 3, "Twin Co", "twin.com"),
        "twin2": _account(s, 4, "Twin Company", "twin.com"),
        "initech": _account(s, 5, "Initech", None),
    }
    for n in range(6, 16):  # a book around them that no change below reaches
        _account(s, n, f"Filler {n}", f"filler{n}.com")
        s.add(ExternalIdentity(source="zendesk", kind="organization", external_id=f"f{n}",
                               name=f"Filler {n}", domains=[f"filler{n}.com"]))  # fmt: skip
    s.add_all([*mixed_idents(), _ident("7", name="Hooli", domains=["hooli.xyz"])])
    s.commit()
    return {k: a.id for k, a in accs.items()}


def _ident(ext: str, **kw: Any) -> ExternalIdentity:
    source = kw.pop("source", "zendesk")
    kind = "workspace" if source == "usage" else "organization"
    return ExternalIdentity(source=source, kind=kind, external_id=ext, **kw)


def _get(s: Session, ext: str) -> ExternalIdentity:
    return s.scalars(select(ExternalIdentity).where(ExternalIdentity.external_id == ext)).one()


Change = Callable[[Session, dict[str, int]], None]


def _new_account_for_unmatched(s: Session, ids: dict[str, int]) -> None:
    ids["hooli"] = _account(s, 20, "Hooli", "hooli.xyz").id


def _rename_account(s: Session, ids: dict[str, int]) -> None:
    """Initech is renamed: the identity linked by its old name is unmatched, "Unknown" links."""
    acc = s.get(Account, ids["initech"])
    assert acc is not None
    acc.name = "Unknown Limited"


def _domain_shared(s: Session, ids: dict[str, int]) -> None:
    """Globex takes Acme's domain: the identity linked to Acme by domain becomes ambiguous."""
    acc = s.get(Account, ids["globex"])
    assert acc is not None
    acc.domain = "acme.com"


def _identity_changed(s: Session, ids: dict[str, int]) -> None:
    _get(s, "6").domains = ["twin.com"]


def _identity_added(s: Session, ids: dict[str, int]) -> None:
    s.add(_ident("8", name="Twin Company Ltd"))


def _attribute_names_identity(s: Session, ids: dict[str, int]) -> None:
    acc = s.get(Account, ids["initech"])
    assert acc is not None
    acc.attributes = {"organization_id": "7"}


def _crm_id_hinted(s: Session, ids: dict[str, int]) -> None:
    """An identity hints a crm id no account had; an account takes it."""
    _get(s, "f6").hint_crm_id = "001000000000099AAA"
    s.commit()
    resolve_identities(s)
    s.commit()
    _account(s, 99, "Ninety-Nine", None)


def _erase_candidate(s: Session, ids: dict[str, int]) -> None:
    """An ambiguous identity's candidate is erased: the other one wins it."""
    erase_account(s, ids["twin1"], "test")


def _soft_delete(s: Session, ids: dict[str, int]) -> None:
    acc = s.get(Account, ids["acme"])
    assert acc is not None
    acc.is_deleted = True


CHANGES: list[tuple[str, Change, int]] = [
    ("new account", _new_account_for_unmatched, 1),
    ("account renamed", _rename_account, 2),
    ("domain shared", _domain_shared, 3),
    ("identity changed", _identity_changed, 1),
    ("identity added", _identity_added, 1),
    ("attribute names an identity", _attribute_names_identity, 2),
    ("crm id taken", _crm_id_hinted, 1),
    ("ambiguous candidate erased", _erase_candidate, 3),
    ("account soft-deleted", _soft_delete, 2),
]


def _scope_sizes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many identities each scoped resolution is given to match (no stamping margin)."""
    monkeypatch.setattr(marks, "MARGIN", dt.timedelta(0))
    matched: list[int] = []
    to_relink = identity_scope.to_relink

    def spy(*args: Any, **kw: Any) -> set[int]:
        out = to_relink(*args, **kw)
        matched.append(len(out))
        return out

    monkeypatch.setattr(identity_scope, "to_relink", spy)
    return matched


def test_incremental_resolution_links_what_a_full_relink_links(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    matched = _scope_sizes(monkeypatch)
    ids = _seed(session)
    resolve_identities(session)
    session.commit()
    assert matched == []  # no mark yet: every identity was matched
    resolve_identities(session)  # matches again what the first one linked (stamped after it)
    session.commit()
    matched.clear()
    resolve_identities(session)
    session.commit()
    assert matched == [0, 0]  # nothing changed: nothing to match (crm accounts, then the rest)
    for label, change, most in CHANGES:
        change(session, ids)
        session.commit()
        before = _links(session)
        matched.clear()
        counts = resolve_identities(session)
        session.commit()
        got = _links(session)
        assert got != before, f"{label}: the change moved no link"
        assert 0 < sum(matched) <= most, f"{label}: matched {matched}"
        want_counts = resolve_identities(session, full_relink=True)
        session.commit()
        assert _links(session) == got, label
        assert counts == want_counts, label


def test_a_change_to_most_accounts_matches_every_identity(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past `FULL_SHARE` of the book changed, the scope gives up (None: match everything),
    and the links are still a full relink's."""
    monkeypatch.setattr(marks, "MARGIN", dt.timedelta(0))
    monkeypatch.setattr(identity_scope, "FULL_AT_LEAST", 0)
    scopes: list[set[int] | None] = []
    to_relink = identity_scope.to_relink

    def spy(*args: Any, **kw: Any) -> set[int] | None:
        scopes.append(out := to_relink(*args, **kw))
        return out

    monkeypatch.setattr(identity_scope, "to_relink", spy)
    ids = _seed(session)
    resolve_identities(session)
    session.commit()
    _rename_account(session, ids)
    session.execute(update(Account).values(updated_at=utcnow()))  # every account changed
    session.commit()
    counts = resolve_identities(session)
    session.commit()
    assert scopes and all(s is None for s in scopes)
    got = _links(session)
    assert counts == resolve_identities(session, full_relink=True)
    session.commit()
    assert _links(session) == got


def test_what_pulsehub_wrote_read_back_matches_nothing_again(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The run after a write-back pulls the organizations whose custom fields pulsehub wrote
    and the crm accounts it wrote (new modstamp, its read-back fields among the attributes):
    changed rows, but nothing identity matching reads, so nothing is matched again."""
    from model.upsert import upsert_rows
    from sync.mapping import SINKS

    matched = _scope_sizes(monkeypatch)
    _seed(session)
    for _ in range(2):
        resolve_identities(session)
        session.commit()
    written_at = utcnow()
    orgs = (
        session.execute(select(ExternalIdentity).where(ExternalIdentity.source == "zendesk"))
        .scalars()
        .all()
    )
    rows = [{"source": o.source, "kind": o.kind, "external_id": o.external_id, "name": o.name,
             "domains": o.domains, "hint_crm_id": o.hint_crm_id, "is_deleted": o.is_deleted,
             "attributes": {"organization_fields": {"pulsehub_health": 64}, "tags": []},
             "updated_at": utcnow()} for o in orgs]  # fmt: skip
    sink = SINKS["organization"]
    upsert_rows(session, sink.table, rows, key=list(sink.key), update=sink.update)
    accounts = session.execute(select(Account)).scalars().all()
    rows = [{"crm_source": a.crm_source, "crm_id": a.crm_id, "name": a.name, "domain": a.domain,
             "is_deleted": a.is_deleted, "source_modstamp": utcnow(),
             "attributes": {**(a.attributes or {}), "Health_Score__c": 64}, "updated_at": utcnow()}
            for a in accounts]  # fmt: skip
    upsert_rows(session, SINKS["account"].table, rows, key=["crm_source", "crm_id"])
    session.commit()
    changed = select(func.count()).where(Account.updated_at > written_at)
    assert session.scalar(changed) == len(accounts)  # the rows did change
    changed = select(func.count()).where(ExternalIdentity.updated_at > written_at)
    assert session.scalar(changed) == len(orgs)
    before = _links(session)
    matched.clear()
    resolve_identities(session)
    session.commit()
    assert matched == [0, 0]
    assert _links(session) == before
    resolve_identities(session, full_relink=True)
    assert _links(session) == before
