"""Identity resolution: evidence order, ambiguity kept for review, manual decisions persist."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import update

from model.db import transaction
from model.identity import (
    AccountIndex,
    IndexKeys,
    crm_key,
    decide,
    ids_of,
    match,
    normalize_name,
    resolve_identities,
)
from model.tables import Account, ExternalIdentity, Ticket, UsageDaily


@pytest.mark.parametrize(
    ("raw", "norm"),
    [
        ("ACME, Inc.", "acme"),
        ("Acme Inc", "acme"),
        ("The Foo-Bar Group", "foo bar"),
        ("Globex Corporation", "globex"),
        ("Inc.", "inc"),  # never normalizes to nothing
        ("", ""),
    ],
)
def test_normalize_name(raw: str, norm: str) -> None:
    assert normalize_name(raw) == norm


@given(st.text())
def test_normalize_name_is_idempotent(name: str) -> None:
    once = normalize_name(name)
    assert normalize_name(once) == once


def test_crm_key_matches_15_and_18_char_forms() -> None:
    assert crm_key("001000000000001AAA") == crm_key("001000000000001") == "001000000000001"
    assert crm_key("not-an-id") is None


def _seed(session) -> dict[str, int]:
    accs = {
        "acme": Account(
            crm_source="salesforce", crm_id="001000000000001AAA", name="Acme Inc", domain="acme.com"
        ),
        "globex": Account(
            crm_source="salesforce",
            crm_id="001000000000002AAA",
            name="Globex",
            domain="globex.io",
            attributes={"organization_id": "77"},
        ),
        "twin1": Account(
            crm_source="salesforce", crm_id="001000000000003AAA", name="Twin Co", domain="twin.com"
        ),
        "twin2": Account(
            crm_source="salesforce",
            crm_id="001000000000004AAA",
            name="Twin Company",
            domain="twin.com",
        ),
        "initech": Account(
            crm_source="salesforce", crm_id="001000000000005AAA", name="Initech", domain=None
        ),
    }
    session.add_all(accs.values())
    session.flush()
    return {k: a.id for k, a in accs.items()}


def _ident(ext: str, **kw) -> ExternalIdentity:
    source = kw.pop("source", "zendesk")
    kind = "workspace" if source == "usage" else "organization"
    return ExternalIdentity(source=source, kind=kind, external_id=ext, **kw)


def mixed_idents() -> list[ExternalIdentity]:
    """One identity per way of matching `_seed`'s accounts, and one that matches none."""
    return [
        _ident("1", name="whatever", hint_crm_id="001000000000001"),  # explicit (15-char form)
        _ident("77", name="Globex Europe"),  # an account attribute names it
        _ident("3", name="Acme", domains=["www.ACME.com"]),  # domain
        _ident("4", name="Twin", domains=["twin.com"]),  # two accounts share it
        _ident("5", name="INITECH, Inc."),  # name
        _ident("6", name="Unknown Ltd"),  # nothing
        _ident("ws_1", source="usage", name="x", hint_crm_id="001000000000002AAA"),
    ]


def test_resolution_order_and_ambiguity(factory) -> None:
    with transaction(factory) as s:
        ids = _seed(s)
        s.add_all(mixed_idents())
    with transaction(factory) as s:
        counts = resolve_identities(s)
        got = {(i.source, i.external_id): i for i in s.query(ExternalIdentity)}
        assert (got[("zendesk", "1")].account_id, got[("zendesk", "1")].method) == (
            ids["acme"],
            "external_id",
        )
        assert (got[("zendesk", "77")].account_id, got[("zendesk", "77")].method) == (
            ids["globex"],
            "field",
        )
        assert (got[("zendesk", "3")].account_id, got[("zendesk", "3")].method) == (
            ids["acme"],
            "domain",
        )
        assert got[("zendesk", "4")].status == "ambiguous"
        assert sorted(got[("zendesk", "4")].candidates) == sorted([ids["twin1"], ids["twin2"]])
        assert (got[("zendesk", "5")].account_id, got[("zendesk", "5")].method) == (
            ids["initech"],
            "name",
        )
        assert (
            got[("zendesk", "6")].status == "unmatched" and got[("zendesk", "6")].account_id is None
        )
        assert got[("usage", "ws_1")].account_id == ids["globex"]
        assert counts == {
            "zendesk.linked_by_external_id": 1,
            "zendesk.linked_by_field": 1,
            "zendesk.linked_by_domain": 1,
            "zendesk.linked_by_name": 1,
            "zendesk.ambiguous": 1,
            "zendesk.unmatched": 1,
            "usage.linked_by_external_id": 1,
        }


def test_manual_decision_persists_and_propagates_to_tickets(factory) -> None:
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    with transaction(factory) as s:
        ids = _seed(s)
        s.add(_ident("4", name="Twin", domains=["twin.com"]))
        s.add(
            Ticket(
                source="zendesk",
                helpdesk_id=10,
                helpdesk_org_id=4,
                status="open",
                created_at=now,
                updated_at=now,
            )
        )
    with transaction(factory) as s:
        resolve_identities(s)
        ident = s.query(ExternalIdentity).one()
        assert ident.status == "ambiguous"
        decide(s, ident.id, ids["twin2"])
    with transaction(factory) as s:
        resolve_identities(s)  # a later sync must not undo the reviewer
        ident = s.query(ExternalIdentity).one()
        assert (ident.status, ident.account_id, ident.method) == ("linked", ids["twin2"], "manual")
        assert s.query(Ticket).one().account_id == ids["twin2"]


def test_an_index_of_some_identities_keys_matches_them_as_the_whole_index_does(factory) -> None:
    """A scoped resolution builds its index from its identities' keys only: each of them
    gets the same answer as from the whole book's index, and the index holds no account
    that none of their keys names."""
    idents = mixed_idents()
    with transaction(factory) as s:
        ids = _seed(s)
        whole = AccountIndex.build(s)
        for one in idents:
            keyed = AccountIndex.build(s, IndexKeys.of([one]))
            assert match(keyed, one) == match(whole, one), one.external_id
        few = AccountIndex.build(s, IndexKeys.of(idents[4:6]))  # INITECH, Unknown
        held = set(few.by_crm_key.values()) | set(few.by_field.values())
        held |= {
            a for accs in [*few.by_domain.values(), *few.by_name.values()] for a in ids_of(accs)
        }
        assert held == {ids["initech"]} and set(few.crm_source) == held


def test_a_whole_book_pass_pages_identities_and_writes_each_pages_links(
    factory, monkeypatch
) -> None:
    """Every identity matched a page at a time (pages of 2 here) gets the link the whole index
    gives it, and its tickets follow; past `FULL_RELINK_AT` re-linked identities the tickets
    are re-pointed in one whole pass, as the set of keys no longer kept would have."""
    from model import identity
    from model.upsert import upsert_rows
    from sync.mapping import SINKS

    monkeypatch.setattr(identity, "RESOLVE_BATCH", 2)
    monkeypatch.setattr(identity, "FULL_RELINK_AT", 2)
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    sink, idents = SINKS["ticket"], mixed_idents()
    tickets = [
        {"source": "zendesk", "helpdesk_id": n, "helpdesk_org_id": int(org), "status": "open",
         "created_at": now, "updated_at": now}
        for n, org in enumerate(["1", "77", "3", "4", "5"], start=10)
    ]  # fmt: skip
    with transaction(factory) as s:
        ids = _seed(s)
        s.add_all(idents)
        upsert_rows(s, sink.table, tickets, key=sink.key)
    with transaction(factory) as s:
        whole = AccountIndex.build(s)
        expected = {i.external_id: match(whole, i) for i in s.query(ExternalIdentity)}
        resolve_identities(s)
        got = {i.external_id: i for i in s.query(ExternalIdentity)}
        assert {k: (g.status, g.account_id, g.method) for k, g in got.items()} == {
            k: (m.status, m.account_id, m.method) for k, m in expected.items()
        }
        assert {t.helpdesk_id: t.account_id for t in s.query(Ticket)} == {
            10: ids["acme"], 11: ids["globex"], 12: ids["acme"], 13: None, 14: ids["initech"],
        }  # fmt: skip


def test_relinked_keys_are_kept_up_to_the_whole_pass_threshold(monkeypatch) -> None:
    from model import identity

    monkeypatch.setattr(identity, "FULL_RELINK_AT", 2)
    relinked = identity.Relinked()
    relinked.add("organization", "1")
    relinked.add("organization", "1")
    relinked.add("workspace", "1")
    assert relinked.keys() == {("organization", "1"), ("workspace", "1")}
    relinked.add("organization", "2")
    assert relinked.keys() is None  # past the threshold: every dependent row


def test_match_is_pure_over_index() -> None:
    idx = AccountIndex()
    idx.by_domain["a.com"] = {1}
    assert match(idx, _ident("9", domains=["www.a.com"])).account_id == 1


def test_incremental_propagation_follows_org_moves_and_relinks(factory, monkeypatch) -> None:
    """Only rows changed since the mark or of re-linked identities are re-pointed, and that is
    enough: a ticket moved to another organization (the upsert clears its link) and an
    organization whose match changed both end up on the right account; a stale row nobody
    changed is left (no margin on the watermark: with one, identities linked within it are
    visited again)."""
    from model import marks
    from model.upsert import upsert_rows
    from sync.mapping import SINKS

    monkeypatch.setattr(marks, "MARGIN", dt.timedelta(0))

    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    sink = SINKS["ticket"]
    row = {
        "source": "zendesk",
        "helpdesk_id": 10,
        "helpdesk_org_id": 1,
        "status": "open",
        "created_at": now,
        "updated_at": now,
    }
    with transaction(factory) as s:
        ids = _seed(s)
        s.add_all([_ident("1", hint_crm_id="001000000000001"), _ident("77", name="Globex")])
        upsert_rows(s, sink.table, [row, {**row, "helpdesk_id": 11}], key=sink.key)
    with transaction(factory) as s:
        resolve_identities(s)
        assert {t.helpdesk_id: t.account_id for t in s.query(Ticket)} == {
            10: ids["acme"], 11: ids["acme"],
        }  # fmt: skip
    with transaction(factory) as s:  # ticket 10 moves to org 77; ticket 11 is re-sent unchanged
        reset = dict(sink.reset_on_change)
        upsert_rows(
            s, sink.table, [{**row, "helpdesk_org_id": 77}], key=sink.key, reset_on_change=reset
        )
        upsert_rows(
            s, sink.table, [{**row, "helpdesk_id": 11}], key=sink.key, reset_on_change=reset
        )
        assert {t.helpdesk_id: t.account_id for t in s.query(Ticket)} == {10: None, 11: ids["acme"]}
    with transaction(factory) as s:
        resolve_identities(s)
        assert {t.helpdesk_id: t.account_id for t in s.query(Ticket)} == {
            10: ids["globex"], 11: ids["acme"],
        }  # fmt: skip
    with transaction(factory) as s:  # org 1 now names Initech: its tickets follow
        s.query(ExternalIdentity).filter_by(external_id="1").one().hint_crm_id = "001000000000005"
    with transaction(factory) as s:
        resolve_identities(s)
        assert (
            s.get(Ticket, s.query(Ticket.id).filter_by(helpdesk_id=11).scalar()).account_id
            == ids["initech"]
        )
    with transaction(factory) as s:  # a stale link nobody changed: only a full pass sees it
        stale = {"account_id": ids["twin1"], "synced_at": now}  # stamped long before the mark
        s.execute(update(Ticket).where(Ticket.helpdesk_id == 10).values(**stale))
    with transaction(factory) as s:
        resolve_identities(s)
        assert s.query(Ticket).filter_by(helpdesk_id=10).one().account_id == ids["twin1"]
        resolve_identities(s, full_relink=True)
        assert s.query(Ticket).filter_by(helpdesk_id=10).one().account_id == ids["globex"]


def test_linking_goes_by_kind_whatever_the_source(factory) -> None:
    """A workspace from any source links by the account's workspace attribute, and daily usage
    follows it; an organization of a source never seen before points tickets at its account."""
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    with transaction(factory) as s:
        ids = _seed(s)
        s.get(Account, ids["acme"]).attributes = {"workspace_id": "wh-1"}
        s.add_all([
            ExternalIdentity(source="warehouse", kind="workspace", external_id="wh-1"),
            ExternalIdentity(source="desk2", kind="organization", external_id="5", name="Initech"),
            UsageDaily(workspace_id="wh-1", day=now.date(), active_users=3),
            Ticket(source="desk2", helpdesk_id=1, helpdesk_org_id=5, status="open", created_at=now, updated_at=now),
        ])  # fmt: skip
    with transaction(factory) as s:
        counts = resolve_identities(s)
        assert counts == {"warehouse.linked_by_field": 1, "desk2.linked_by_name": 1}
        assert s.query(UsageDaily).one().account_id == ids["acme"]
        assert s.query(Ticket).one().account_id == ids["initech"]
