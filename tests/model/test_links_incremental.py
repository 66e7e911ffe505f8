"""Propagation that follows change (model/links.py) leaves every ticket, usage row, contact,
opportunity and child account where the whole-book pass puts it, after each kind of change,
on SQLite and PostgreSQL; and an unchanged run visits nothing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from model import links, marks
from model.crm_accounts import CRM_ACCOUNT
from model.identity import resolve_identities
from model.tables import Account, Contact, ExternalIdentity, Opportunity, Ticket, UsageDaily
from model.upsert import upsert_rows
from sync.erasure import erase_account
from sync.mapping import SINKS

NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
DAY = dt.date(2026, 1, 1)


def _crm(n: int) -> str:
    return f"001{n:012d}AAA"


def _dependents(s: Session) -> dict[tuple[Any, ...], int | None]:
    """Where every dependent row points."""
    out: dict[tuple[Any, ...], int | None] = {}
    for src, hid, acc in s.execute(select(Ticket.source, Ticket.helpdesk_id, Ticket.account_id)):
        out[("ticket", src, hid)] = acc
    for ws, day, acc in s.execute(
        select(UsageDaily.workspace_id, UsageDaily.day, UsageDaily.account_id)
    ):
        out[("usage", ws, day)] = acc
    for model in (Contact, Opportunity):
        for src, crm, acc in s.execute(select(model.source, model.crm_id, model.account_id)):
            out[(model.__tablename__, src, crm)] = acc
    for src, crm, parent in s.execute(
        select(Account.crm_source, Account.crm_id, Account.parent_id)
    ):
        out[("child", src, crm)] = parent
    return out


def _account(s: Session, n: int, name: str, **kw: Any) -> Account:
    acc = Account(crm_source="salesforce", crm_id=_crm(n), name=name, **kw)
    s.add(acc)
    s.flush()
    return acc


def _ticket(hid: int, org: int) -> dict[str, Any]:
    """A ticket row as the pull maps it (stamped: the upsert keeps the stamp unless it changes)."""
    return {"synced_at": dt.datetime.now(dt.UTC), "source": "zendesk", "helpdesk_id": hid, "helpdesk_org_id": org,
            "status": "open", "created_at": NOW, "updated_at": NOW}  # fmt: skip


def _put_tickets(s: Session, *rows: dict[str, Any]) -> None:
    sink = SINKS["ticket"]
    upsert_rows(s, sink.table, list(rows), key=sink.key, reset_on_change=dict(sink.reset_on_change))


def _contact(crm: str, account_crm: str, source: str = "salesforce") -> Contact:
    return Contact(source=source, crm_id=crm, account_crm_id=account_crm)


def _seed(s: Session) -> dict[str, int]:
    accs = {
        "acme": _account(s, 1, "Acme Inc", domain="acme.com"),
        "globex": _account(
            s, 2, "Globex", domain="globex.io", attributes={"organization_id": "77"}
        ),
        "initech": _account(s, 3, "Initech", domain="initech.com"),
        "kid": _account(s, 4, "Acme Labs", parent_crm_id=_crm(1)),
        "orphan": _account(s, 5, "Waiting Child", parent_crm_id=_crm(9)),  # parent not yet here
    }
    for n in range(10, 20):  # a book around them that no change below reaches
        _account(s, n, f"Filler {n}", domain=f"filler{n}.com")
        s.add(_contact(f"fc{n}", _crm(n)))
        s.add(ExternalIdentity(source="zendesk", kind="organization", external_id=str(n),
                               name=f"Filler {n}", domains=[f"filler{n}.com"]))  # fmt: skip
    s.add_all(
        [
            ExternalIdentity(source="zendesk", kind="organization", external_id="1",
                             name="whatever", hint_crm_id=_crm(1)[:15]),
            ExternalIdentity(source="zendesk", kind="organization", external_id="77",
                             name="Globex Europe"),
            ExternalIdentity(source="zendesk", kind="organization", external_id="999",
                             name="Hooli", domains=["hooli.xyz"]),
            ExternalIdentity(source="usage", kind="workspace", external_id="ws_1",
                             name="x", hint_crm_id=_crm(2)),
            ExternalIdentity(source="sf2", kind=CRM_ACCOUNT, external_id="SF2-1",
                             name="Roadrunner", domains=["acme.com"]),
            _contact("c1", _crm(1)),
            _contact("c2", _crm(9)),  # its account is not here yet
            _contact("c3", "SF2-1", source="sf2"),  # a secondary crm's: follows its identity
            Opportunity(source="salesforce", crm_id="o1", account_crm_id=_crm(2)),
            UsageDaily(workspace_id="ws_1", day=DAY),
        ]
    )  # fmt: skip
    _put_tickets(s, _ticket(10, 1), _ticket(11, 77), _ticket(12, 999))
    for n in range(10, 20):
        _put_tickets(s, _ticket(100 + n, n))
    s.commit()
    return {k: a.id for k, a in accs.items()}


def _get(s: Session, model: Any, **by: Any) -> Any:
    return s.scalars(select(model).filter_by(**by)).one()


Change = Callable[[Session, dict[str, int]], None]
SETTLED_BY_THE_CHANGE = {"an account is erased"}  # its rows go, its children are detached

CHANGES: list[tuple[str, Change]] = [
    ("ticket added", lambda s, ids: _put_tickets(s, _ticket(13, 77))),
    ("ticket moved to another organization", lambda s, ids: _put_tickets(s, _ticket(10, 77))),
    ("an account matches an unmatched organization",
     lambda s, ids: _account(s, 20, "Hooli", domain="hooli.xyz") and None),
    ("contact added", lambda s, ids: s.add(_contact("c4", _crm(3)))),
    ("contact moved to another account",
     lambda s, ids: setattr(_get(s, Contact, crm_id="c1"), "account_crm_id", _crm(3))),
    ("the account of a contact and a child arrives", lambda s, ids: _account(s, 9, "Late") and None),
    ("an account's crm id changes",
     lambda s, ids: setattr(s.get(Account, ids["initech"]), "crm_id", _crm(30))),
    ("a child moves to another parent",
     lambda s, ids: setattr(s.get(Account, ids["kid"]), "parent_crm_id", _crm(2))),
    ("a secondary crm account's identity relinks",
     lambda s, ids: setattr(s.get(Account, ids["acme"]), "domain", "acme.org")),
    ("a workspace relinks",
     lambda s, ids: setattr(_get(s, ExternalIdentity, external_id="ws_1"), "hint_crm_id", _crm(1))),
    ("usage added", lambda s, ids: s.add(UsageDaily(workspace_id="ws_1", day=DAY.replace(day=2)))),
    ("an opportunity added", lambda s, ids: s.add(
        Opportunity(source="salesforce", crm_id="o2", account_crm_id=_crm(9)))),
    ("an account is erased", lambda s, ids: erase_account(s, ids["globex"], "test") and None),
    ("an account is soft-deleted",
     lambda s, ids: setattr(s.get(Account, ids["acme"]), "is_deleted", True)),
]  # fmt: skip


def test_scoped_propagation_leaves_what_the_whole_book_pass_leaves(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(marks, "MARGIN", dt.timedelta(0))  # the tightest scope
    scoped: list[links.Changed] = []
    changed_since = links.changed_since

    def spy(*args: Any) -> links.Changed:
        scoped.append(out := changed_since(*args))
        return out

    monkeypatch.setattr(links, "changed_since", spy)
    ids = _seed(session)
    resolve_identities(session)  # no mark: every row
    session.commit()
    resolve_identities(session)  # rows the first run stamped
    session.commit()
    scoped.clear()
    resolve_identities(session)
    session.commit()
    assert scoped == [links.Changed(set(), [], [])]  # nothing changed: nothing to visit
    for label, change in CHANGES:
        change(session, ids)
        session.commit()
        before = _dependents(session)
        scoped.clear()
        resolve_identities(session)
        session.commit()
        got = _dependents(session)
        assert got != before or label in SETTLED_BY_THE_CHANGE, f"{label}: moved no row"
        assert scoped and all(c.account_ids is not None for c in scoped), f"{label}: {scoped}"
        resolve_identities(session, full_relink=True)
        session.commit()
        assert _dependents(session) == got, label


def test_a_stale_row_nobody_changed_is_left_to_the_full_pass(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The scope is what can have moved, not a check of every row: the comparison above can
    fail (a row set wrong by hand, with no change stamp, stays wrong until a full pass)."""
    monkeypatch.setattr(marks, "MARGIN", dt.timedelta(0))
    ids = _seed(session)
    resolve_identities(session)
    session.commit()
    resolve_identities(session)
    session.commit()
    stale = dict(parent_id=ids["globex"], updated_at=dt.datetime(2000, 1, 1, tzinfo=dt.UTC))
    session.execute(Account.__table__.update().where(Account.id == ids["kid"]).values(**stale))
    session.commit()
    resolve_identities(session)
    session.commit()
    assert session.get(Account, ids["kid"]).parent_id == ids["globex"]  # type: ignore[union-attr]
    resolve_identities(session, full_relink=True)
    session.commit()
    session.expire_all()
    assert session.get(Account, ids["kid"]).parent_id == ids["acme"]  # type: ignore[union-attr]
