"""upsert_rows: a re-read that changes nothing writes nothing; a change updates, on both dialects."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select, text

from model.db import make_engine, make_session_factory, transaction, upgrade
from model.tables import Account, ExternalIdentity, SyncCursor, Ticket
from model.upsert import upsert_rows
from sync.mapping import SINKS

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
LATER = dt.datetime(2026, 1, 2, tzinfo=dt.UTC)


def _account(**over: Any) -> dict[str, Any]:
    return {
        "crm_source": "salesforce", "crm_id": "001A", "name": "Acme", "arr": 1000.0,
        "renewal_date": dt.date(2026, 6, 1), "is_deleted": False,
        "attributes": {"organization_id": "7", "fields": {"Tier__c": "Gold", "n": [1, 2]}},
        "updated_at": T0, **over,
    }  # fmt: skip


def _factory(url: str):  # type: ignore[no-untyped-def]
    upgrade(url)
    return make_session_factory(make_engine(url))


def _put(factory, rows: list[dict[str, Any]]) -> None:  # type: ignore[no-untyped-def]
    with transaction(factory) as s:
        upsert_rows(s, Account.__table__, rows, key=["crm_source", "crm_id"])  # type: ignore[arg-type]


def _stored(factory) -> tuple[dt.datetime, str, dict[str, Any]]:  # type: ignore[no-untyped-def]
    with factory() as s:
        acc = s.scalars(select(Account)).one()
        return acc.updated_at, acc.name, acc.attributes


def test_unchanged_reread_keeps_row_and_updated_at(any_db_url) -> None:
    """The overlap window re-reads an account: same content, later `updated_at` offered: the
    row is not updated (its updated_at stays), and on PostgreSQL no row version is written."""
    factory = _factory(any_db_url)
    _put(factory, [_account()])
    xmin = _xmin(factory)
    same = _account()["attributes"]
    if xmin is not None:  # jsonb equality: the same JSON with its keys in another order
        same = {"fields": {"n": [1, 2], "Tier__c": "Gold"}, "organization_id": "7"}
    _put(factory, [_account(updated_at=LATER, attributes=same)])
    assert _stored(factory)[0] == T0
    if xmin is not None:
        assert _xmin(factory) == xmin  # no new row version


def test_changed_column_or_json_updates_row(any_db_url) -> None:
    factory = _factory(any_db_url)
    _put(factory, [_account()])
    _put(factory, [_account(name="Acme Inc", updated_at=LATER)])
    assert _stored(factory)[:2] == (LATER, "Acme Inc")
    later = LATER + dt.timedelta(days=1)
    edited = {"organization_id": "7", "fields": {"Tier__c": "Silver", "n": [1, 2]}}
    _put(factory, [_account(name="Acme Inc", updated_at=later, attributes=edited)])
    assert _stored(factory)[0] == later
    assert _stored(factory)[2]["fields"]["Tier__c"] == "Silver"
    _put(factory, [_account(name="Acme Inc", updated_at=later, arr=None)])  # value -> NULL
    with factory() as s:
        assert s.scalars(select(Account.arr)).one() is None


def test_derived_column_reset_only_on_a_real_change(any_db_url) -> None:
    """A ticket re-read unchanged keeps its account link; moved to another organization it
    loses it (reset_on_change), even though the derived column is not in the row."""
    factory = _factory(any_db_url)
    sink = SINKS["ticket"]
    row = {
        "source": "zendesk", "helpdesk_id": 10, "helpdesk_org_id": 1, "status": "open",
        "created_at": T0, "updated_at": T0,
    }  # fmt: skip
    reset = dict(sink.reset_on_change)
    with transaction(factory) as s:
        s.add(Account(crm_source="salesforce", crm_id="001A", name="Acme"))
        s.flush()
        upsert_rows(s, sink.table, [row], key=sink.key, reset_on_change=reset)
        s.execute(text("UPDATE tickets SET account_id = (SELECT min(id) FROM accounts)"))
    with transaction(factory) as s:
        upsert_rows(s, sink.table, [row], key=sink.key, reset_on_change=reset)
    with factory() as s:
        assert s.scalars(select(Ticket.account_id)).one() is not None
    with transaction(factory) as s:
        upsert_rows(
            s, sink.table, [{**row, "helpdesk_org_id": 2}], key=sink.key, reset_on_change=reset
        )
    with factory() as s:
        assert s.execute(select(Ticket.account_id, Ticket.helpdesk_org_id)).one() == (None, 2)


def test_bookkeeping_column_moves_with_content_only(any_db_url) -> None:
    """A cursor saved again with the same value keeps its updated_at; a new value moves it."""
    factory = _factory(any_db_url)
    table = SyncCursor.__table__

    def save(value: str, at: dt.datetime) -> None:
        with transaction(factory) as s:
            upsert_rows(
                s, table, [{"stream": "s", "value": value, "updated_at": at}], key=["stream"]
            )  # type: ignore[arg-type]

    save("a", T0)
    save("a", LATER)
    with factory() as s:
        assert s.scalars(select(SyncCursor.updated_at)).one() == T0
    save("b", LATER)
    with factory() as s:
        assert s.execute(select(SyncCursor.value, SyncCursor.updated_at)).one() == ("b", LATER)


def test_update_subset_compares_only_updated_columns(any_db_url) -> None:
    """With `update=[...]`, a difference in a column that is not updated changes nothing."""
    factory = _factory(any_db_url)
    _put(factory, [_account()])
    with transaction(factory) as s:
        upsert_rows(
            s, Account.__table__, [_account(name="Other", updated_at=LATER)],  # type: ignore[arg-type]
            key=["crm_source", "crm_id"], update=["arr", "updated_at"],
        )  # fmt: skip
    assert _stored(factory)[:2] == (T0, "Acme")


def _xmin(factory) -> int | None:  # type: ignore[no-untyped-def]
    """PostgreSQL's row version id of the one account (None on SQLite)."""
    with factory() as s:
        if s.get_bind().dialect.name != "postgresql":
            return None
        return int(s.execute(text("SELECT xmin::text::bigint FROM accounts")).scalar_one())


def _stamps(factory, model) -> tuple[dt.datetime, dt.datetime | None]:  # type: ignore[no-untyped-def]
    with factory() as s:
        row = s.scalars(select(model)).one()
        return row.updated_at, row.match_changed_at


def test_the_match_stamp_moves_only_with_what_matching_reads(any_db_url) -> None:
    """An account re-read with a new modstamp and new values in its read-back fields (what
    pulsehub wrote) has changed (`updated_at`) but matches as before (`match_changed_at`
    stays); a new domain or organization id moves both. The same for an organization whose
    custom fields pulsehub wrote, against one renamed."""
    factory = _factory(any_db_url)
    _put(factory, [_account()])
    _, stamp = _stamps(factory, Account)
    assert stamp is not None
    fields = {"organization_id": "7", "fields": {"Tier__c": "Gold", "Health__c": 71}}
    _put(factory, [_account(attributes=fields, source_modstamp=LATER, updated_at=LATER)])
    assert _stamps(factory, Account) == (LATER, stamp)
    for change in ({"domain": "acme.io"}, {"attributes": {**fields, "organization_id": "8"}}):
        before = _stamps(factory, Account)[1]
        _put(factory, [_account(**{"attributes": fields, "updated_at": LATER, **change})])
        assert _stamps(factory, Account)[1] > before, change  # type: ignore[operator]

    sink = SINKS["organization"]

    def org(**over: Any) -> dict[str, Any]:
        return {"source": "zendesk", "kind": "organization", "external_id": "7", "name": "Acme",
                "domains": ["acme.com"], "hint_crm_id": None, "is_deleted": False,
                "attributes": {"organization_fields": {"health": 70}, "tags": []},
                "updated_at": T0, **over}  # fmt: skip

    def put_org(row: dict[str, Any]) -> None:
        with transaction(factory) as s:
            upsert_rows(s, sink.table, [row], key=list(sink.key), update=sink.update)

    put_org(org())
    _, stamp = _stamps(factory, ExternalIdentity)
    put_org(org(attributes={"organization_fields": {"health": 64}, "tags": []}, updated_at=LATER))
    assert _stamps(factory, ExternalIdentity) == (LATER, stamp)
    put_org(org(name="Acme Corp", updated_at=LATER))
    assert _stamps(factory, ExternalIdentity)[1] > stamp  # type: ignore[operator]


def test_the_match_fields_name_what_the_account_index_reads() -> None:
    from model.identity import ACCOUNT_ATTRIBUTE_FOR_KIND
    from model.match_fields import ACCOUNT_MATCH_FIELDS

    named = {f.partition(".")[2] for f in ACCOUNT_MATCH_FIELDS if f.startswith("attributes.")}
    assert named == set(ACCOUNT_ATTRIBUTE_FOR_KIND.values())
