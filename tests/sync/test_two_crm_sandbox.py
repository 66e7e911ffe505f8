"""Two crm orgs feeding one account model, end to end on real loopback HTTP.

The primary crm org, the helpdesk and the usage API are one sandbox; an acquired company's
crm org, source "books", is a second sandbox (sandbox/second_crm.py): some customers in both
orgs (same website), a few only in the acquired one, and record ids that collide — the
second org's account X is another customer than the first org's account X.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from model.db import upgrade
from model.tables import Account, ExternalIdentity, HealthSnapshot
from pulsehub.demo import sandbox_settings
from pulsehub.runtime import Runtime
from pulsehub.settings import SourceSettings
from sandbox import Sandbox
from sandbox import credentials as cred
from sandbox.generate import build_world
from sandbox.second_crm import split_crm
from sandbox.state import api_writes

BOOKS = "books"


@pytest.fixture
def pair() -> Any:
    world = build_world(60, 5)
    second = split_crm(world)
    with Sandbox(world=world) as first, Sandbox(world=second) as books:
        yield first, books


def _runtime(first: Sandbox, books: Sandbox, url: str, *, primary: bool = False) -> Runtime:
    upgrade(url)
    source = SourceSettings(
        name=BOOKS,
        connector="salesforce",
        options={
            "instance_url": "https://sandbox.my.salesforce.com",
            "session_id": cred.SF_SESSION_ID,
            "api_version": cred.SF_API_VERSION,
            "loopback_url": books.base_url,
        },
        primary=primary,
    )
    return Runtime(sandbox_settings(first.base_url, url, sources=[source]))


def _api_writes(sb: Sandbox) -> list[dict[str, Any]]:
    return api_writes(sb.requests)


def _health(sb: Sandbox) -> dict[str, Any]:
    """The health score each account record of a sandbox's crm was last written."""
    return {
        w["target_id"]: w["changes"]["Health_Score__c"]
        for w in sb.writes
        if w["kind"] == "account_fields" and "Health_Score__c" in w["changes"]
    }


def test_two_crm_orgs_one_account_per_customer(pair, sqlite_url) -> None:
    first, books = pair
    truth = books.world.truth["second_crm"]
    rt = _runtime(first, books, sqlite_url)
    try:
        report = rt.sync()
        assert report.errors == []
        assert f"{BOOKS}.accounts" in report.pulled and f"{BOOKS}.contacts" in report.pulled
        with rt.factory() as s:
            accounts = {
                (a.crm_source, a.crm_id): a
                for a in s.execute(select(Account).where(Account.is_deleted.is_(False))).scalars()
            }
            idents = {
                i.external_id: i
                for i in s.execute(
                    select(ExternalIdentity).where(ExternalIdentity.source == BOOKS)
                ).scalars()
            }
            newest = s.execute(select(HealthSnapshot.as_of).order_by(HealthSnapshot.as_of.desc())).scalar()  # fmt: skip
            score = {
                snap.account_id: snap.score
                for snap in s.execute(
                    select(HealthSnapshot).where(HealthSnapshot.as_of == newest)
                ).scalars()
            }
        live_first = [a for a in first.world.accounts if not a["IsDeleted"]]
        # one account per customer: the first org's, plus the acquired org's own customers
        assert {k for k in accounts if k[0] == "salesforce"} == {
            ("salesforce", a["Id"]) for a in live_first
        }
        assert {k for k in accounts if k[0] == BOOKS} == {(BOOKS, i) for i in truth["only"]}
        for books_id, first_id in truth["both"].items():
            ident = idents[books_id]
            assert (ident.status, ident.method) == ("linked", "domain")
            assert ident.account_id == accounts[("salesforce", first_id)].id
            # the same id in the first org is another customer, with an account of its own
            other = accounts.get(("salesforce", books_id))
            assert other is None or other.id != ident.account_id

        # each org's record gets the score of its own customer, though the ids collide
        written_first, written_books = _health(first), _health(books)
        checked = 0
        for books_id, first_id in truth["both"].items():
            acc = accounts[("salesforce", first_id)].id
            if acc in score:
                checked += 1
                assert written_books[books_id] == written_first[first_id]
                assert written_books[books_id] == pytest.approx(score[acc], abs=0.5)
        assert checked >= len(truth["both"]) // 2
        for books_id in truth["only"]:
            acc = accounts[(BOOKS, books_id)].id
            if acc in score:
                assert written_books[books_id] == pytest.approx(score[acc], abs=0.5)
        assert set(written_books) <= set(truth["both"]) | set(truth["only"])
        clashes = [i for i in written_books if i in written_first]
        assert clashes, "ids collide across the orgs"

        before = (len(_api_writes(first)), len(_api_writes(books)))
        again = rt.sync()
        assert again.errors == [] and again.planned == {}
        assert (len(_api_writes(first)), len(_api_writes(books))) == before
    finally:
        rt.close()


def test_primary_true_makes_the_listed_second_org_the_canonical_one(pair, sqlite_url) -> None:
    first, books = pair
    rt = _runtime(first, books, sqlite_url, primary=True)
    try:
        assert [n for n, c in rt.connectors.items() if c.kind == "crm"] == [BOOKS, "salesforce"]
    finally:
        rt.close()
