"""The whole-book pass of link propagation is set-based (a join, then an anti-join) on
databases that take `UPDATE ... FROM`; it must leave every ticket and usage row where the
row-by-row lookup does, in every odd case: one organization id in two helpdesk sources, one
workspace linked by two usage sources (the lowest identity id wins), an identity that is
ambiguous or unmatched, a row whose key names no identity or no key at all."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from model import links
from model.tables import Account, ExternalIdentity, Ticket, UsageDaily
from tests.model.test_links_incremental import _dependents

NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def _book(s: Session) -> dict[str, int]:
    acc = {}
    for name in ("a1", "a2", "a3"):
        a = Account(crm_source="salesforce", crm_id=f"001{name}", name=name)
        s.add(a)
        s.flush()
        acc[name] = a.id

    def ident(source: str, kind: str, ext: str, status: str, account: str | None) -> None:
        s.add(ExternalIdentity(
            source=source, kind=kind, external_id=ext, status=status,
            account_id=acc[account] if account else None,
        ))  # fmt: skip
        s.flush()

    ident("zendesk", "organization", "10", "linked", "a1")
    ident("zendesk2", "organization", "10", "linked", "a2")  # same id, another helpdesk
    ident("zendesk", "organization", "11", "unmatched", None)
    ident("zendesk", "organization", "12", "ambiguous", None)
    ident("usage2", "workspace", "w1", "linked", "a2")  # the lower id: it wins
    ident("usage", "workspace", "w1", "linked", "a1")
    ident("usage", "workspace", "w2", "ambiguous", None)
    ident("usage", "workspace", "w4", "linked", "a3")

    tickets = [  # (source, helpdesk id, organization id, account it holds now)
        ("zendesk", 1, 10, "a3"), ("zendesk2", 1, 10, None), ("zendesk", 2, 11, "a1"),
        ("zendesk", 3, 12, "a2"), ("zendesk", 4, None, "a2"), ("zendesk", 5, 99, None),
        ("zendesk", 6, 10, "a1"), ("zendesk2", 7, 10, "a1"),
    ]  # fmt: skip
    for source, hid, org, holds in tickets:
        s.add(Ticket(
            source=source, helpdesk_id=hid, helpdesk_org_id=org, status="open",
            created_at=NOW, updated_at=NOW, account_id=acc[holds] if holds else None,
        ))  # fmt: skip
    usage = [("w1", 1, None), ("w1", 2, "a3"), ("w2", 1, "a3"), ("w3", 1, "a1"), ("w4", 1, "a3")]
    for ws, day, holds in usage:
        s.add(UsageDaily(
            workspace_id=ws, day=dt.date(2026, 1, day), account_id=acc[holds] if holds else None,
        ))  # fmt: skip
    s.flush()
    return acc


def _where(s: Session) -> dict[tuple[Any, ...], int | None]:
    """Where every ticket and usage row points (days by their day of the month)."""
    rows = _dependents(s).items()
    return {
        (k[0], k[1], getattr(k[2], "day", k[2])): v for k, v in rows if k[0] in ("ticket", "usage")
    }


def _row_by_row(s: Session) -> None:
    """The correlated form every scoped pass uses, over every row."""
    for model in (Ticket, UsageDaily):
        links.repoint_every_row(s, model, set_based=False)


def test_the_set_based_whole_pass_leaves_what_the_row_by_row_lookup_leaves(session) -> None:
    acc = _book(session)
    before = _where(session)
    for model in (Ticket, UsageDaily):  # on each database (SQLite's whole pass is row by row)
        links.repoint_every_row(session, model, set_based=True)
    set_based = _where(session)

    for key, holds in before.items():  # put every row back as it was, then look up row by row
        model, col = (Ticket, Ticket.helpdesk_id) if key[0] == "ticket" else (UsageDaily, None)
        if model is Ticket:
            where = (Ticket.source == key[1]) & (col == key[2])
        else:
            where = (UsageDaily.workspace_id == key[1]) & (
                UsageDaily.day == dt.date(2026, 1, key[2])
            )
        session.execute(update(model).where(where).values(account_id=holds))
    _row_by_row(session)
    assert _where(session) == set_based

    a1, a2, a3 = acc["a1"], acc["a2"], acc["a3"]
    assert set_based == {
        ("ticket", "zendesk", 1): a1, ("ticket", "zendesk2", 1): a2,
        ("ticket", "zendesk", 2): None, ("ticket", "zendesk", 3): None,
        ("ticket", "zendesk", 4): None, ("ticket", "zendesk", 5): None,
        ("ticket", "zendesk", 6): a1, ("ticket", "zendesk2", 7): a2,
        ("usage", "w1", 1): a2, ("usage", "w1", 2): a2, ("usage", "w2", 1): None,
        ("usage", "w3", 1): None, ("usage", "w4", 1): a3,
    }  # fmt: skip


def test_a_second_whole_pass_changes_nothing(session) -> None:
    _book(session)
    links.propagate_links(session)
    first = _where(session)
    links.propagate_links(session)
    assert _where(session) == first
