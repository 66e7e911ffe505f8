"""Two crm sources, one account model: the primary's accounts are canonical; a secondary
org's account of the same customer resolves to it (domain, name, or a reviewer's decision),
one only the secondary has owns an account, an ambiguous one waits for review; contacts and
opportunities of both orgs follow; the secondary's linked records get the same fields."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from connectors import salesforce_writer
from connectors.salesforce_fields import SalesforceFieldMap
from connectors.salesforce_records import SfAccount
from model.db import transaction
from model.identity import decide, resolve_identities
from model.tables import Account, ExternalIdentity, Opportunity
from sync.mapping import SINKS
from sync.pull import store_rows
from sync.routes import field_targets
from sync.writeback import plan_writeback
from tests.sync.factories import snapshot

WHEN = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
BOOKS = "books"  # the acquired company's crm org


def _primary(s: Any, crm_id: str, name: str, domain: str | None) -> Account:
    acc = Account(crm_source="salesforce", crm_id=crm_id, name=name, domain=domain)
    s.add(acc)
    s.flush()
    return acc


def _secondary(s: Any, crm_id: str, name: str, website: str | None) -> None:
    record = SfAccount(id=crm_id, name=name, website=website, arr=10_000.0, modstamp=WHEN)
    sink = SINKS["crm_account"]
    store_rows(s, sink, [sink.row(record, BOOKS)])


def _opportunity(s: Any, crm_id: str, account_crm_id: str) -> None:
    s.add(Opportunity(source=BOOKS, crm_id=crm_id, account_crm_id=account_crm_id, type="Renewal"))


def _idents(s: Any) -> dict[str, ExternalIdentity]:
    rows = s.execute(select(ExternalIdentity).where(ExternalIdentity.source == BOOKS)).scalars()
    return {i.external_id: i for i in rows}


def test_secondary_crm_accounts_resolve_own_or_wait_for_review(factory) -> None:
    with transaction(factory) as s:
        acme = _primary(s, "001000000000001AAA", "Acme Inc", "acme.com").id
        _primary(s, "001000000000002AAA", "Twin Co", "twin.com")
        _primary(s, "001000000000003AAA", "Twin Company", "twin.com")
        _secondary(s, "001B00000000001AAA", "ACME", "https://www.acme.com")  # same customer
        _secondary(s, "001B00000000002AAA", "Initech", "initech.com")  # the acquired org's only
        _secondary(s, "001B00000000003AAA", "Twin", "twin.com")  # two candidates
        _opportunity(s, "006B00000000001AAA", "001B00000000001AAA")
        _opportunity(s, "006B00000000002AAA", "001B00000000002AAA")
    with transaction(factory) as s:
        counts = resolve_identities(s)
        assert counts[f"{BOOKS}.owns_account"] == 1
        idents = _idents(s)
        assert (idents["001B00000000001AAA"].account_id, idents["001B00000000001AAA"].method) == (
            acme,
            "domain",
        )
        initech = s.execute(
            select(Account).where(Account.crm_source == BOOKS, Account.crm_id == "001B00000000002AAA")
        ).scalar_one()  # fmt: skip
        assert initech.name == "Initech" and initech.arr == 10_000.0 and not initech.is_deleted
        assert idents["001B00000000002AAA"].account_id == initech.id
        assert idents["001B00000000003AAA"].status == "ambiguous"  # never silently merged
        assert len(idents["001B00000000003AAA"].candidates) == 2
        opps = {o.crm_id: o.account_id for o in s.execute(select(Opportunity)).scalars()}
        assert opps == {"006B00000000001AAA": acme, "006B00000000002AAA": initech.id}
        accounts_before = s.execute(select(Account.id)).scalars().all()
        links_before = {k: (i.status, i.account_id, i.method, i.updated_at) for k, i in idents.items()}  # fmt: skip

    with transaction(factory) as s:  # nothing changed: nothing moves, no account is added
        again = resolve_identities(s)
        assert again[f"{BOOKS}.linked_by_owner"] == again[f"{BOOKS}.owns_account"] == 1
        assert s.execute(select(Account.id)).scalars().all() == accounts_before
        links = {k: (i.status, i.account_id, i.method, i.updated_at) for k, i in _idents(s).items()}
        assert links == links_before

    with transaction(factory) as s:  # the primary org gains Initech: one account, the primary's
        primary_initech = _primary(s, "001000000000004AAA", "Initech", "initech.com").id
        resolve_identities(s)
        ident = _idents(s)["001B00000000002AAA"]
        assert (ident.account_id, ident.method) == (primary_initech, "domain")
        assert s.get(Account, initech.id).is_deleted  # the owned account is retired
        opps = {o.crm_id: o.account_id for o in s.execute(select(Opportunity)).scalars()}
        assert opps["006B00000000002AAA"] == primary_initech

    with transaction(factory) as s:  # a reviewer settles the ambiguous one: it stays decided
        twin = _idents(s)["001B00000000003AAA"]
        decide(s, twin.id, twin.candidates[0])
        resolve_identities(s)
        assert _idents(s)["001B00000000003AAA"].account_id == twin.candidates[0]


def test_each_crm_org_gets_the_fields_on_its_own_record(factory) -> None:
    kinds = salesforce_writer.write_kinds(SalesforceFieldMap().write_fields())
    targets = field_targets({"salesforce": kinds, BOOKS: kinds})
    with transaction(factory) as s:
        acme = _primary(s, "001000000000001AAA", "Acme Inc", "acme.com").id
        _secondary(s, "001B00000000001AAA", "ACME", "acme.com")
        _secondary(s, "001B00000000002AAA", "Initech", "initech.com")
        resolve_identities(s)
        initech = s.execute(select(Account.id).where(Account.crm_source == BOOKS)).scalar_one()
        s.add_all([snapshot(acme, as_of=WHEN.date()), snapshot(initech, as_of=WHEN.date())])
        s.flush()
        planned = {(w.system, w.target_id): w.account_id for w in plan_writeback(s, targets)}
    assert planned == {
        ("salesforce", "001000000000001AAA"): acme,
        (BOOKS, "001B00000000001AAA"): acme,  # the same customer's record in the other org
        (BOOKS, "001B00000000002AAA"): initech,  # the account that org owns
    }
